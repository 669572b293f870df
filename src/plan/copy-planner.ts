/**
 * Planning a service whose dev pod runs in a dev copy (plan/dev-copy.ts), pure, in the shape of the
 * in-place planner: one entry per service with a reason, the fields it changes and every write conditional
 * on what was read. The copy carries the dev state; the source carries only its hold (plan/held.ts).
 */
import type { DesiredService } from '../desired/build.js';
import type { KubeObject } from '../model/kube-object.js';
import type { ObservedService, ObservedState } from '../model/observed.js';
import { buildCopy } from './dev-copy.js';
import { copyName, devWorkloadOf } from '../model/dev-workload.js';
import { readDevState, type DevState } from './dev-state.js';
import { lookupHint, noop, precondition, problem, recoveryHint, type Base } from './entries.js';
import { holdFor, holdOps, readHeld, releaseOps } from './held.js';
import { diffPaths, fieldName, pointer } from './patch.js';
import type { PlanOptions } from './planner.js';
import { describePatches, overlaps, planPatching, userPatchesOf } from './user-patches.js';
import { quotaExcess } from './quota.js';
import type { CopyPlan, PlannedPatch, ServicePlan } from './types.js';
import { DEV_STATE_ANNOTATION } from '../model/dev-mode.js';

type Quotas = Pick<ObservedState, 'quotas' | 'limitRanges'>;

export function planCopyService(base: Base, app: string, service: DesiredService, seen: ObservedService | undefined, quotas: Quotas, options: PlanOptions): ServicePlan {
  const { kind, name } = service.workload;
  const duplicateFor = options.duplicate ? options.identity : undefined;
  const copyRef = devWorkloadOf(service.workload, duplicateFor);
  // A bare Pod that nh deleted for its dev copy may still be terminating: on its way out, not to be replaced again.
  const replacedPod = kind === 'Pod' && options.mode === 'up' && seen?.workload?.metadata.deletionTimestamp !== undefined;
  const source = replacedPod ? undefined : seen?.workload;
  const copy = seen?.copy;
  const read = copy ? readDevState(copy) : { kind: 'absent' as const };
  if (read.kind === 'invalid') return problem(base, 'error', 'NH_DEV_STATE_INVALID', `the saved dev state of Deployment \`${copyRef.name}\` (the dev copy of ${kind} \`${name}\`) is missing or corrupt: ${read.why}`, `delete it: \`kubectl delete deployment ${copyRef.name}\``);
  const state = read.kind === 'present' ? read.state : undefined;
  const held = source && !duplicateFor ? readHeld(source) : undefined;
  const owner = state ? { identity: state.owner, since: state.since } : held ? { identity: held.owner, since: '?' } : undefined;
  const withOwner: Base = { ...base, ...(owner ? { owner } : {}), observedResourceVersion: (copy ?? source)?.metadata.resourceVersion };
  if (owner && owner.identity !== options.identity && !options.force) {
    return problem(withOwner, 'conflict', 'NH_CONFLICT', `${kind} \`${name}\` is in dev mode by ${owner.identity} since ${owner.since}`,
      options.mode === 'up' ? 'pass --force to take it over' : 'pass --force to restore it anyway');
  }
  const owned = source?.metadata.ownerReferences?.[0];
  if (kind === 'Pod' && owned) {
    if (options.mode === 'down' && !copy) return noop(withOwner, 'not in dev mode');
    return problem(withOwner, 'error', 'NH_OWNED_POD', `Pod \`${name}\` belongs to ${owned.kind} \`${owned.name}\`: nh does not switch a pod its controller would replace`,
      `develop the ${owned.kind} instead: serviceType: ${owned.kind.toLowerCase()}, name: ${owned.name}`);
  }
  if (options.mode === 'down') return planCopyLeave(withOwner, source, copy, state, duplicateFor !== undefined, seen?.claims);
  const original = source ?? (kind === 'Pod' ? (state?.copy?.pod as KubeObject | undefined) : undefined);
  if (!original) return problem(withOwner, 'error', 'NH_WORKLOAD_NOT_FOUND', `no ${kind} \`${name}\` in namespace \`${source?.metadata.namespace ?? 'the namespace'}\``, lookupHint(seen, kind));
  const node = kind === 'DaemonSet' && !duplicateFor ? state?.copy?.node ?? held?.node ?? seen?.nodes?.[0] : undefined;
  if (kind === 'DaemonSet' && !duplicateFor && node === undefined) {
    return problem(withOwner, 'error', 'NH_NO_NODE', `DaemonSet \`${name}\` runs no pod on any node: there is no node to develop on`, 'check its node selector and the nodes\' taints (`kubectl get pods -o wide`)');
  }
  return planCopyEnter(withOwner, app, service, { original, source, copy, state, node, duplicateFor, claims: seen?.claims ?? [] }, quotas, options);
}

interface CopyInputs {
  readonly original: KubeObject;
  readonly source: KubeObject | undefined;
  readonly copy: KubeObject | undefined;
  readonly state: DevState | undefined;
  readonly node: string | undefined;
  readonly duplicateFor: string | undefined;
  /** The claims of a StatefulSet's duplicate that exist. */
  readonly claims: readonly string[];
}

function planCopyEnter(base: Base, app: string, service: DesiredService, inputs: CopyInputs, quotas: Quotas, options: PlanOptions): ServicePlan {
  const { kind, name } = service.workload;
  const { original, source, copy, state, node, duplicateFor } = inputs;
  const takeover = state !== undefined && state.owner !== options.identity;
  const meta = { app, owner: options.identity, since: state && !takeover ? state.since : options.now, nhVersion: state?.nhVersion ?? options.nhVersion };
  const built = buildCopy(kind, original, service, { duplicateFor, node, meta });
  if (!built.ok) return problem(base, 'error', 'NH_UNSUPPORTED_KIND', built.message, built.hint);
  const target = built.target;
  const fields: string[] = [];
  const plan: { -readonly [K in keyof CopyPlan]: CopyPlan[K] } = { name: target.metadata.name, selector: (target.spec['selector'] as { matchLabels: Record<string, string> }).matchLabels };
  const hold = source && !duplicateFor ? holdFor(kind, source, node) : undefined;
  const holding = hold && source ? holdOps(source, hold, { service: service.name, owner: options.identity, ...(node ? { node } : {}) }) : [];
  if (holding.length && source) {
    plan.source = sourcePatch(kind, source, holding);
    fields.push(...holding.filter((op) => op.path !== '/metadata/annotations').map((op) => `${kind}.${op.path.slice(1).replace(/\//g, '.')}`));
  }
  const { patched, unpatched, touched } = planPatching(target, target, service.patches, state?.patches?.saved);
  let reason = 'not in dev mode';
  let writesCopy = true;
  if (!copy) {
    plan.create = unpatched;
    fields.push(`Deployment/${target.metadata.name}: create`);
  } else {
    const why = copyOutdated(state, service, target, app, takeover);
    if (why) {
      reason = why;
      const resourceVersion = copy.metadata.resourceVersion ?? '';
      // Fields earlier patches changed outside the template go back to nh's copy before the patches are sent again.
      const outside = diffPaths(copy, unpatched, touched.filter((path) => !overlaps(path, ['spec', 'template'])), fieldName(copy));
      plan.patch = {
        kind: 'Deployment', name: copy.metadata.name, resourceVersion,
        ops: [precondition(resourceVersion), { op: 'replace', path: '/spec/template', value: target.spec.template }, ...outside.ops,
          { op: 'add', path: pointer(['metadata', 'annotations', DEV_STATE_ANNOTATION]), value: unpatched.metadata.annotations![DEV_STATE_ANNOTATION] }],
      };
      fields.push(`Deployment/${target.metadata.name}: template`, ...outside.fields);
    } else {
      writesCopy = false;
      if (holding.length) reason = `${kind} \`${name}\` is not held`;
    }
  }
  if (writesCopy) fields.push(...describePatches(service.patches, target, fieldName(target)));
  const missing = (built.claims ?? []).filter((c) => !inputs.claims.includes(c.metadata.name));
  if (missing.length) {
    plan.claims = missing;
    fields.push(...missing.map((c) => `PersistentVolumeClaim/${c.metadata.name}: create`));
    if (copy && !writesCopy) reason = 'its claims are missing';
  }
  if (kind === 'Pod' && !duplicateFor && source) {
    plan.deletePod = { name: source.metadata.name, uid: uidOf(source) };
    fields.push(`Pod/${source.metadata.name}: replace`);
  }
  if (fields.length === 0) return noop(base, 'in dev mode and up to date');
  // The pod a copy stands in for (a DaemonSet's on one node, a bare Pod) is freed; a Job's or a duplicate's is not.
  const freed = !duplicateFor && (kind === 'DaemonSet' || kind === 'Pod') && !copy ? 1 : 0;
  const excess = !copy ? quotaExcess(quotas.quotas, quotas.limitRanges, { metadata: original.metadata, spec: { replicas: freed, template: target.spec.template } }, target) : undefined;
  if (excess) return problem(base, 'error', 'NH_QUOTA_EXCEEDED', excess.message, 'lower the dev container\'s resources in the config, or ask for a larger quota');
  return {
    ...base, action: copy ? 'update' : 'enter', reason, fields, volumeClaims: built.volumeClaims, hpaPatches: [], workloadPatch: undefined, copy: plan,
    ...(writesCopy ? userPatchesOf(service, patched) : {}),
  };
}

/** Why an existing copy must be rewritten, or undefined when it is as the config and the source want. */
function copyOutdated(state: DevState | undefined, service: DesiredService, target: KubeObject, app: string, takeover: boolean): string | undefined {
  const wanted = JSON.parse(target.metadata.annotations![DEV_STATE_ANNOTATION]!) as DevState;
  if (!state) return 'the dev copy has no dev state';
  if (takeover) return `take over from ${state.owner} (in dev mode since ${state.since})`;
  if (state.configHash !== service.configHash) return 'the config changed since entering dev mode';
  if (state.copy?.sourceHash !== wanted.copy?.sourceHash) return `${service.workload.kind} \`${service.workload.name}\` changed since its dev copy was made`;
  if (state.app !== app) return `now part of app \`${app}\``;
  if (state.patches?.applied === false) return 'its patches were not all applied (an earlier run stopped half-way)';
  return undefined;
}

/** Leaving: re-create a bare Pod from its saved spec, delete the copy, release the source. */
export function planCopyLeave(base: Base, source: KubeObject | undefined, copy: KubeObject | undefined, state: DevState | undefined, duplicate: boolean, claims: readonly string[] = []): ServicePlan {
  const { kind, name } = base.workload;
  const fields: string[] = [];
  const selector = (copy?.['spec'] as { selector?: { matchLabels?: Record<string, string> } } | undefined)?.selector?.matchLabels ?? {};
  const plan: { -readonly [K in keyof CopyPlan]: CopyPlan[K] } = { name: copy?.metadata.name ?? copyName(base.workload, undefined), selector };
  const savedOriginal = state?.copy?.pod as KubeObject | undefined;
  if (kind === 'Pod' && !duplicate && !source && savedOriginal) {
    plan.createPod = savedOriginal;
    fields.push(`Pod/${name}: re-create`);
  }
  if (copy) {
    plan.remove = { uid: uidOf(copy) };
    fields.push(`Deployment/${copy.metadata.name}: delete`);
  }
  const releasing = source && !duplicate ? releaseOps(source) : [];
  if (releasing.length && source) {
    plan.source = sourcePatch(kind, source, releasing);
    fields.push(...releasing.filter((op) => !op.path.startsWith('/metadata/')).map((op) => `${kind}.${op.path.slice(1).replace(/\//g, '.')}`));
  }
  const removeClaims = [...new Set([...(state?.copy?.claims ?? []), ...claims])];
  if (removeClaims.length) {
    plan.removeClaims = removeClaims;
    fields.push(...removeClaims.map((c) => `PersistentVolumeClaim/${c}: delete`));
  }
  if (!copy && !plan.createPod && !plan.source && !removeClaims.length) return noop(base, 'not in dev mode');
  if (copy && kind === 'Pod' && !state) return problem(base, 'error', 'NH_DEV_STATE_INVALID', `the dev copy of Pod \`${name}\` has no saved original`, recoveryHint('Deployment', plan.name));
  const reason = state ? `in dev mode by ${state.owner} since ${state.since}` : `${kind} \`${name}\` is still held by nh`;
  return { ...base, action: 'leave', reason, fields, volumeClaims: [], hpaPatches: [], workloadPatch: undefined, copy: plan };
}

/** A dev copy found among the namespace's dev workloads (a removed service, `nh space reset`). */
export function leaveCopy(copy: KubeObject, state: DevState, source: KubeObject | undefined, reason: string): ServicePlan {
  const kind = state.copy!.kind;
  const base: Base = {
    service: state.service, workload: { kind, name: state.copy!.name },
    owner: { identity: state.owner, since: state.since }, observedResourceVersion: copy.metadata.resourceVersion,
  };
  const plan = planCopyLeave(base, source, copy, state, state.copy!.duplicate);
  return plan.action === 'leave' ? { ...plan, reason } : plan;
}

function sourcePatch(kind: string, source: KubeObject, ops: PlannedPatch['ops']): PlannedPatch {
  const resourceVersion = source.metadata.resourceVersion ?? '';
  return { kind: kind as PlannedPatch['kind'], name: source.metadata.name, resourceVersion, ops: [precondition(resourceVersion), ...ops] };
}

function uidOf(object: KubeObject): string {
  return (object.metadata as { uid?: string }).uid ?? '';
}
