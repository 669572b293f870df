/** Conditional patches with their 409 handling: nh's planned change retried only while it is still wanted. */
import { setTimeout as delay } from 'node:timers/promises';
import { NhError } from '../errors.js';
import type { KubeClient } from '../kube/client.js';
import { isKubeError } from '../kube/errors.js';
import type { KubeObject } from '../model/kube-object.js';
import { deepEqual } from '../plan/patch.js';
import type { PlannedPatch } from '../plan/types.js';

/**
 * A workload in the middle of a rollout has its status written by its controller every few milliseconds, and
 * each write moves its resourceVersion on: on a loaded machine four tries in a row met one (a restore failed so
 * in CI). So the tries are spread out, 25 ms doubling to 400 ms between them, ≈ 2 s in all; the config's
 * patches (user-patches.ts) are retried the same way.
 */
export const CONFLICT_RETRIES = 8;

/** The pause before the next try after a conflict: 25 ms doubling to 400 ms. */
export function pauseAfterConflict(attempt: number): Promise<void> {
  return delay(Math.min(25 * 2 ** attempt, 400));
}

/**
 * The planned patch; on a 409 only if a fresh plan still wants exactly the same change (status updates bump
 * resourceVersion too). A different change means someone else changed the object: stale.
 */
export async function patchStrictly(deps: { readonly kube: KubeClient }, namespace: string, patch: PlannedPatch, refresh: () => Promise<PlannedPatch | undefined>): Promise<KubeObject | undefined> {
  return patchWithRetry(deps, namespace, patch, refresh, (fresh) => {
    if (!deepEqual(fresh.ops.slice(1), patch.ops.slice(1))) {
      throw new NhError('NH_PLAN_STALE', `plan is stale: ${patch.kind} \`${patch.name}\` changed since nh read it; run again`, {
        hint: 'run `nh plan` to see what would change now',
      });
    }
  });
}

/** nh's own restore: the freshest change wins. */
export async function patchLatest(deps: { readonly kube: KubeClient }, namespace: string, patch: PlannedPatch, refresh: () => Promise<PlannedPatch | undefined>): Promise<KubeObject | undefined> {
  return patchWithRetry(deps, namespace, patch, refresh, () => undefined);
}

async function patchWithRetry(
  deps: { readonly kube: KubeClient },
  namespace: string,
  patch: PlannedPatch,
  refresh: () => Promise<PlannedPatch | undefined>,
  accept: (fresh: PlannedPatch) => void,
): Promise<KubeObject | undefined> {
  let current = patch;
  for (let attempt = 0; ; attempt++) {
    try {
      return await deps.kube.patch(current.kind, namespace, current.name, current.ops);
    } catch (error) {
      if (!isKubeError(error, 409) || attempt >= CONFLICT_RETRIES) throw error;
      await pauseAfterConflict(attempt);
      const fresh = await refresh();
      if (!fresh) return undefined;
      accept(fresh);
      current = fresh;
    }
  }
}

