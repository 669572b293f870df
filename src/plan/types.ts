/** The plan: per service what nh will do, why, which fields change, and the exact writes. */
import type { ErrorCode } from '../errors.js';
import type { JsonPatchOp, KubeObject } from '../model/kube-object.js';

export type PlanAction = 'enter' | 'update' | 'leave' | 'noop' | 'conflict' | 'error';

/** A conditional JSON patch: it applies only to the resourceVersion the plan observed. */
export interface PlannedPatch {
  readonly kind: 'Deployment' | 'StatefulSet' | 'HorizontalPodAutoscaler';
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
