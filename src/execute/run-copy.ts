/**
 * Carrying out the plan of a service whose dev pod runs in a dev copy (plan/copy-planner.ts). Entering:
 * hold the source, create a duplicate's own claims, create or update the copy, wait for its dev pod, then delete
 * a bare Pod it replaces.
 * Leaving: re-create a bare Pod, delete the copy and wait for its pods to go, then release the source.
 * Each step is one conditional write, and the order keeps a state on the cluster that names what is left.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { NhError } from '../errors.js';
import type { KubeClient } from '../kube/client.js';
import { isKubeError } from '../kube/errors.js';
import { waitForDevPod, waitForDevPodsGone } from '../kube/rollout.js';
import type { KubeObject } from '../model/kube-object.js';
import type { ServicePlan } from '../plan/types.js';
import { patchLatest, patchStrictly } from './conditional-patch.js';
import { sendUserPatches } from './user-patches.js';
import type { RunDeps } from './run-plan.js';

type Progress = (line: string) => void;

/** Returns the ready dev pod's name. */
export async function enterCopy(namespace: string, plan: ServicePlan, deps: RunDeps, progress: Progress): Promise<string> {
  const copy = plan.copy!;
  const fresh = async () => (await deps.replan(plan.service)).copy;
  if (copy.source) {
    progress(`holding ${copy.source.kind} ${copy.source.name}`);
    await patchStrictly(deps, namespace, copy.source, async () => (await fresh())?.source);
  }
  // Before the copy whose pod mounts them: a pod created before its claim, or before the claim is bound, can be
  // left unschedulable by the scheduler until its next full retry (up to 5 min; seen on the local cluster), while
  // the claim is bound in milliseconds. A run stopped here leaves claims that `nh down` finds by the copy's label.
  for (const claim of copy.claims ?? []) {
    progress(`creating PersistentVolumeClaim ${claim.metadata.name}`);
    await ensureClaim(deps.kube, namespace, claim);
  }
  let workload: KubeObject | undefined;
  if (copy.create) {
    progress(`creating Deployment ${copy.name}`);
    workload = await deps.kube.create('Deployment', namespace, copy.create).catch((error: unknown) => {
      if (isKubeError(error, 409)) throw stale(`Deployment \`${copy.name}\` was created meanwhile`);
      throw error;
    });
  } else if (copy.patch) {
    progress(`updating Deployment ${copy.name}`);
    workload = await patchStrictly(deps, namespace, copy.patch, async () => (await fresh())?.patch);
  }
  workload ??= await deps.kube.get('Deployment', namespace, copy.name);
  if (!workload) throw new NhError('NH_WORKLOAD_NOT_FOUND', `Deployment \`${copy.name}\` disappeared`);
  if (plan.userPatches) workload = await sendUserPatches(deps, namespace, { kind: 'Deployment', name: copy.name }, plan.userPatches, workload, progress);
  progress('waiting for the dev pod to be ready');
  const pod = await waitForDevPod(deps.watch, { ...workload, kind: 'Deployment' }, { timeoutMs: deps.timeoutMs, signal: deps.signal, onProgress: progress });
  // Only once the dev pod runs: a dev pod that fails leaves the original Pod as it was.
  if (copy.deletePod) {
    progress(`deleting Pod ${copy.deletePod.name}, replaced by ${pod}`);
    await deps.kube.delete('Pod', namespace, copy.deletePod.name, { uid: copy.deletePod.uid }).catch((error: unknown) => {
      if (isKubeError(error, 409)) throw stale(`Pod \`${copy.deletePod!.name}\` was replaced meanwhile`);
      throw error;
    });
    // Gone before up returns: a `nh down` right after must find the name free to re-create the Pod.
    progress(`waiting for Pod ${copy.deletePod.name} to go`);
    await untilPodGone(namespace, copy.deletePod, deps);
  }
  return pod;
}

/** `strict`: `nh down` (a concurrent change of the source stops it); otherwise nh's own restore after a failure. */
export async function leaveCopy(namespace: string, plan: ServicePlan, deps: RunDeps, progress: Progress, strict: boolean): Promise<void> {
  const copy = plan.copy!;
  const refresh = async () => (await (strict ? deps.replan : deps.planRestore)(plan.service)).copy?.source;
  if (copy.createPod) {
    progress(`re-creating Pod ${copy.createPod.metadata.name}`);
    await deps.kube.create('Pod', namespace, copy.createPod).catch((error: unknown) => {
      if (!isKubeError(error, 409)) throw error; // there again already (an earlier run re-created it)
    });
  }
  // First: a claim in use is only marked, and goes once the copy's pod is gone (a stop between leaves no claim behind).
  for (const claim of copy.removeClaims ?? []) {
    progress(`deleting PersistentVolumeClaim ${claim}`);
    await deps.kube.delete('PersistentVolumeClaim', namespace, claim);
  }
  if (copy.remove) {
    progress(`deleting Deployment ${copy.name}`);
    await deps.kube.delete('Deployment', namespace, copy.name, { uid: copy.remove.uid });
    progress('waiting for the dev pod to go');
    const selectorOf: KubeObject = { kind: 'Deployment', metadata: { name: copy.name }, spec: { selector: { matchLabels: copy.selector } } };
    await waitForDevPodsGone(deps.watch, selectorOf, { timeoutMs: deps.timeoutMs, signal: deps.signal, onProgress: progress }, true);
  }
  // After the dev pod is gone: a DaemonSet's own pod then starts on a node that is free again (host ports).
  if (copy.source) {
    progress(`releasing ${copy.source.kind} ${copy.source.name}`);
    await (strict ? patchStrictly : patchLatest)(deps, namespace, copy.source, refresh);
  }
}

function stale(what: string): NhError {
  return new NhError('NH_PLAN_STALE', `plan is stale: ${what}; run again`, { hint: 'run `nh plan` to see what would change now' });
}

/** Polls until the Pod of that uid is gone (its grace period over); NH_ROLLOUT_FAILED at the timeout. */
async function untilPodGone(namespace: string, pod: { readonly name: string; readonly uid: string }, deps: RunDeps): Promise<void> {
  const deadline = Date.now() + deps.timeoutMs;
  for (;;) {
    const current = await deps.kube.get('Pod', namespace, pod.name);
    if (!current || (current.metadata as { uid?: string }).uid !== pod.uid) return;
    if (Date.now() > deadline) throw new NhError('NH_ROLLOUT_FAILED', `Pod \`${pod.name}\` is still terminating`, { hint: `its grace period may be long: see \`kubectl describe pod ${pod.name}\`` });
    await sleep(200, undefined, { signal: deps.signal });
  }
}

/** Creates the claim unless it exists (made by an earlier run, or by another run meanwhile). */
export async function ensureClaim(kube: KubeClient, namespace: string, claim: KubeObject): Promise<void> {
  if (await kube.get('PersistentVolumeClaim', namespace, claim.metadata.name)) return;
  try {
    await kube.create('PersistentVolumeClaim', namespace, claim);
  } catch (error) {
    if (!isKubeError(error, 409)) throw error;
  }
}
