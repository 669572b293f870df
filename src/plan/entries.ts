/** Building plan entries: the shapes every planner returns (noop, problem) and the hints they carry. */
import type { ErrorCode } from '../errors.js';
import type { JsonPatchOp } from '../model/kube-object.js';
import type { ObservedService } from '../model/observed.js';
import type { ServicePlan } from './types.js';

export type Base = Pick<ServicePlan, 'service' | 'workload' | 'owner' | 'observedResourceVersion'>;

/** Setting the observed resourceVersion makes the API server refuse the patch (409) if the object changed. */
export function precondition(resourceVersion: string): JsonPatchOp {
  return { op: 'replace', path: '/metadata/resourceVersion', value: resourceVersion };
}

export function noop(base: Base, reason: string): ServicePlan {
  return { ...base, action: 'noop', reason, fields: [], volumeClaims: [], hpaPatches: [], workloadPatch: undefined };
}

export function problem(base: Base, action: 'error' | 'conflict', code: ErrorCode, message: string, hint: string | undefined): ServicePlan {
  return { ...base, action, reason: message, fields: [], problem: { code, message, hint }, volumeClaims: [], hpaPatches: [], workloadPatch: undefined };
}

export function lookupHint(seen: ObservedService | undefined, kind: string): string {
  const hints: string[] = [];
  for (const other of seen?.lookup?.otherKinds ?? []) hints.push(`there is a ${other} of that name: set serviceType: ${other.toLowerCase()}`);
  const similar = seen?.lookup?.similarNames ?? [];
  if (similar.length) hints.push(`${kind}s with a close name: ${similar.map((n) => `\`${n}\``).join(', ')}`);
  return hints.length ? hints.join('; ') : 'check the service name and the namespace (-n)';
}

export function recoveryHint(kind: string, name: string): string {
  const resource = kind.toLowerCase();
  return `restore it from its manifests (e.g. \`kubectl apply -f …\`), then \`kubectl annotate ${resource} ${name} nh.dev/state-\` and \`kubectl label ${resource} ${name} nh.dev/mode-\``;
}
