/** The plan: per service what nh will do, why, which fields change, and the exact writes. */
import type { DevPatch } from '../config/model.js';
import type { ErrorCode } from '../errors.js';
import type { JsonPatchOp, KubeObject } from '../model/kube-object.js';

export type PlanAction = 'enter' | 'update' | 'leave' | 'noop' | 'conflict' | 'error';

/** A conditional JSON patch: it applies only to the resourceVersion the plan observed. */
export interface PlannedPatch {
  readonly kind: 'Deployment' | 'StatefulSet' | 'HorizontalPodAutoscaler' | 'CronJob' | 'DaemonSet';
  readonly name: string;
  readonly resourceVersion: string;
  readonly ops: readonly JsonPatchOp[];
}

export interface PlanProblem {
  readonly code: ErrorCode;
  readonly message: string;
  readonly hint: string | undefined;
}

export interface ServicePlan {
  readonly service: string;
  readonly workload: { readonly kind: string; readonly name: string };
  readonly action: PlanAction;
  readonly reason: string;
  /** Human names of the fields the writes change, e.g. `spec.replicas`, `containers[api].image`. */
  readonly fields: readonly string[];
  /** Who has the service in dev mode (before the plan runs), and since when. */
  readonly owner?: { readonly identity: string; readonly since: string };
  /** The workload's resourceVersion when it was read; every write is conditional on it. */
  readonly observedResourceVersion?: string | undefined;
  /** For error and conflict. */
  readonly problem?: PlanProblem;
  /** PVCs for persistentVolumeDirs, created when absent before the workload is patched. */
  readonly volumeClaims: readonly KubeObject[];
  /** HPAs held at one replica (enter/update) or restored (leave). */
  readonly hpaPatches: readonly PlannedPatch[];
  readonly workloadPatch: PlannedPatch | undefined;
  /** A service whose dev pod runs in a dev copy (plan/dev-copy.ts): the writes, in the order they are made. */
  readonly copy?: CopyPlan;
  /**
   * The config's patches, sent to the dev workload (or its copy) after nh's own write, each conditional on
   * the resourceVersion the previous write returned; then the dev state is marked as patched (`patchedState`).
   */
  readonly userPatches?: { readonly patches: readonly DevPatch[]; readonly patchedState: string };
}

/**
 * Entering: hold the source, create (or update) the copy, then delete a bare Pod it replaces. Leaving:
 * re-create a bare Pod, delete the copy, then release the source. In either order a crash leaves a state
 * that names what is left to do: the copy holds the dev state (and a bare Pod's saved spec), the source
 * its own hold.
 */
export interface CopyPlan {
  /** The Deployment nh runs the dev pod in, and its selector (to wait for its pods to go). */
  readonly name: string;
  readonly selector: Readonly<Record<string, string>>;
  readonly create?: KubeObject;
  readonly patch?: PlannedPatch;
  /** Leave: delete the copy (conditional on its uid). */
  readonly remove?: { readonly uid: string };
  /** Hold (enter) or release (leave) of the source. */
  readonly source?: PlannedPatch;
  /** Enter, bare Pod: delete the original once its copy exists (conditional on its uid). */
  readonly deletePod?: { readonly name: string; readonly uid: string };
  /** Leave, bare Pod: the original, re-created from the saved spec. */
  readonly createPod?: KubeObject;
  /** Enter, a StatefulSet's duplicate: its own claims, created before the copy whose pod mounts them. */
  readonly claims?: readonly KubeObject[];
  /** Leave: those claims, deleted first (they go once the copy's pod is gone). */
  readonly removeClaims?: readonly string[];
}

export interface Plan {
  readonly namespace: string;
  readonly identity: string;
  readonly createdAt: string;
  readonly services: readonly ServicePlan[];
}

export function hasChanges(plan: Plan): boolean {
  return plan.services.some((s) => s.action === 'enter' || s.action === 'update' || s.action === 'leave');
}

export function hasProblems(plan: Plan): boolean {
  return plan.services.some((s) => s.action === 'error' || s.action === 'conflict');
}
