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
import { deepEqual, pointer } from '../plan/patch.js';
import type { ServicePlan } from '../plan/types.js';
import { CONFLICT_RETRIES, pauseAfterConflict } from './conditional-patch.js';

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
  /** One conditional write; a 409 from a status update alone (the controller's) is retried on the fresh version. */
  const send = async (write: (resourceVersion: string) => Promise<KubeObject>, patch: DevPatch | undefined, index: number) => {
    for (let attempt = 0; ; attempt++) {
      try {
        return await write(current.metadata.resourceVersion ?? '');
      } catch (error) {
        if (!isKubeError(error, 409) || attempt >= CONFLICT_RETRIES) throw rejected(error, patch, index, target);
        await pauseAfterConflict(attempt);
        const fresh = await deps.kube.get(target.kind, namespace, target.name);
        if (!fresh || !sameBesidesStatus(fresh, current)) throw rejected(error, patch, index, target);
        current = fresh;
      }
    }
  };
  for (const [i, patch] of userPatches.patches.entries()) {
    progress(`applying patch ${i + 1} (${patch.type}) to ${target.kind} ${target.name}`);
    current = await send((rv) => deps.kube.patchDocument(target.kind, namespace, target.name, patch.type, conditional(patch, rv)), patch, i);
  }
  const mark = (rv: string) => [precondition(rv), { op: 'add' as const, path: pointer(['metadata', 'annotations', DEV_STATE_ANNOTATION]), value: userPatches.patchedState }];
  return send((rv) => deps.kube.patch(target.kind, namespace, target.name, mark(rv)), undefined, 0);
}

/** Written by the Deployment controller itself after each template change. */
const CONTROLLER_ANNOTATION = 'deployment.kubernetes.io/revision';

/** Whether only what the controller writes moved (status, its revision): the object is still the one nh wrote. */
function sameBesidesStatus(a: KubeObject, b: KubeObject): boolean {
  const strip = ({ status: _status, metadata: { resourceVersion: _rv, managedFields: _mf, annotations, ...metadata }, ...rest }: KubeObject & { metadata: { managedFields?: unknown } }) => {
    const { [CONTROLLER_ANNOTATION]: _revision, ...own } = annotations ?? {};
    return { ...rest, metadata: { ...metadata, annotations: own } };
  };
  return deepEqual(strip(a), strip(b));
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
