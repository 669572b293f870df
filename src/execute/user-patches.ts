/**
 * Sending the config's patches (plan/user-patches.ts) after nh's own write: each conditional on the
 * resourceVersion the previous write returned, then the dev state marked as patched. A run stopped in
 * between leaves the state saying the patches are still to come, with the original of every field they may
 * change already saved, so `nh up` sends them again and `nh down` restores.
 */
import type { DevPatch } from '../config/model.js';
import { NhError } from '../errors.js';
import type { KubeClient } from '../kube/client.js';
import { isKubeError } from '../kube/errors.js';
import { DEV_STATE_ANNOTATION } from '../model/dev-mode.js';
import type { KubeObject, ResourceKind } from '../model/kube-object.js';
import { precondition } from '../plan/entries.js';
import { pointer } from '../plan/patch.js';
import type { ServicePlan } from '../plan/types.js';

/** Returns the workload as the last write left it. */
export async function sendUserPatches(
  deps: { readonly kube: KubeClient },
  namespace: string,
  target: { readonly kind: ResourceKind; readonly name: string },
  userPatches: NonNullable<ServicePlan['userPatches']>,
  written: KubeObject,
  progress: (line: string) => void,
): Promise<KubeObject> {
  let current = written;
  for (const [i, patch] of userPatches.patches.entries()) {
    progress(`applying patch ${i + 1} (${patch.type}) to ${target.kind} ${target.name}`);
    current = await deps.kube.patchDocument(target.kind, namespace, target.name, patch.type, conditional(patch, current.metadata.resourceVersion ?? ''))
      .catch((error: unknown) => { throw rejected(error, patch, i, target); });
  }
  const mark = [precondition(current.metadata.resourceVersion ?? ''), { op: 'add' as const, path: pointer(['metadata', 'annotations', DEV_STATE_ANNOTATION]), value: userPatches.patchedState }];
  return deps.kube.patch(target.kind, namespace, target.name, mark).catch((error: unknown) => { throw rejected(error, undefined, 0, target); });
}

/** The patch made conditional on the version it was meant for (a 409 when the object changed meanwhile). */
function conditional(patch: DevPatch, resourceVersion: string): unknown {
  if (patch.type === 'json') return [precondition(resourceVersion), ...(patch.body as unknown[])];
  const body = patch.body as Record<string, unknown>;
  return { ...body, metadata: { ...(body['metadata'] as Record<string, unknown> | undefined), resourceVersion } };
}

function rejected(error: unknown, patch: DevPatch | undefined, index: number, target: { readonly kind: string; readonly name: string }): unknown {
  if (isKubeError(error, 409)) {
    return new NhError('NH_PLAN_STALE', `plan is stale: ${target.kind} \`${target.name}\` changed while nh patched it; run again`, {
      hint: 'run `nh up` again: it sends the patches again from what nh saved', cause: error,
    });
  }
  if (patch && (isKubeError(error, 422) || isKubeError(error, 400))) {
    return new NhError('NH_PATCH_REJECTED', `patch ${index + 1} (${patch.type}, ${patch.at}) was rejected by the API server: ${(error as Error).message}`, {
      hint: `fix the patch at ${patch.at}; \`kubectl patch ${target.kind.toLowerCase()} ${target.name} --type ${patch.type} --dry-run=server -p …\` shows the same answer`,
      cause: error,
    });
  }
  return error;
}
