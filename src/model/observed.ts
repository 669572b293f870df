/** What nh read from the cluster before planning: the input of the pure planner besides the config. */
import type { KubeObject, ResourceKind } from './kube-object.js';

export interface ObservedService {
  readonly service: string;
  /** The workload as read, or undefined when it does not exist. */
  readonly workload: KubeObject | undefined;
  /** When the workload is missing: names of the same kind close to it, and other kinds with its exact name. */
  readonly lookup?: { readonly similarNames: readonly string[]; readonly otherKinds: readonly ResourceKind[] };
  /** HorizontalPodAutoscalers whose scaleTargetRef is the workload. */
  readonly hpas: readonly KubeObject[];
  /** The dev copy nh made for this service (plan/dev-copy.ts), when there is one. */
  readonly copy?: KubeObject | undefined;
  /** A StatefulSet's duplicate: the claims of this identity's copy, by name. */
  readonly claims?: readonly string[];
  /** A DaemonSet: the nodes its pods run on, sorted (the dev pod takes the first). */
  readonly nodes?: readonly string[];
}

export interface ObservedState {
  readonly namespace: string;
  readonly services: ReadonlyMap<string, ObservedService>;
  /** Every Deployment and StatefulSet of the namespace labelled as in dev mode (to find removed services). */
  readonly devWorkloads: readonly KubeObject[];
  /** The sources of the dev copies among devWorkloads, by `Kind/name` (undefined: gone), to release them. */
  readonly copySources?: ReadonlyMap<string, KubeObject | undefined>;
  /** HPAs of the namespace (to restore those of removed services). */
  readonly hpas: readonly KubeObject[];
  /** ResourceQuotas and LimitRanges of the namespace: a dev pod that cannot fit is refused at plan time. */
  readonly quotas: readonly KubeObject[];
  readonly limitRanges: readonly KubeObject[];
}

/** Whether an HPA's scaleTargetRef is this workload. */
export function hpaTargets(hpa: KubeObject, kind: string, name: string): boolean {
  const ref = (hpa['spec'] as { scaleTargetRef?: { kind?: string; name?: string } } | undefined)?.scaleTargetRef;
  return ref?.kind === kind && ref.name === name;
}
