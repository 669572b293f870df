/**
 * The read-only view of a namespace (`nh ui`), from the state nh keeps on the cluster (pure): every
 * workload in dev mode, who has it and since when, its dev pod and image, as session events for the page.
 */
import { readDevState } from '../plan/dev-state.js';
import type { KubeObject } from '../model/kube-object.js';
import type { SessionEventBody } from './session-event.js';

export interface DevWorkload {
  readonly service: string;
  readonly app: string | undefined;
  readonly owner: string;
  readonly since: string;
  readonly workload: { readonly kind: string; readonly name: string };
  readonly image: string | undefined;
  readonly pod: { readonly name: string; readonly ready: boolean } | undefined;
}

/** The workloads with a dev state, each with its dev pod (found by the caller) if any. */
export function devWorkloadsOf(workloads: readonly KubeObject[], podOf: (workload: KubeObject) => DevWorkload['pod']): DevWorkload[] {
  return workloads.flatMap((workload) => {
    const read = readDevState(workload);
    if (read.kind !== 'present') return [];
    const containers = (workload as { spec?: { template?: { spec?: { containers?: { image?: string }[] } } } }).spec?.template?.spec?.containers ?? [];
    return [{
      service: read.state.service, app: read.state.app, owner: read.state.owner, since: read.state.since,
      workload: { kind: workload.kind ?? 'Deployment', name: workload.metadata.name }, image: containers[0]?.image, pod: podOf(workload),
    }];
  });
}

/** What the page shows for the namespace: one card per service in dev mode. */
export function namespaceView(namespace: string, dev: readonly DevWorkload[]): SessionEventBody[] {
  const apps = [...new Set(dev.map((d) => d.app).filter((a) => a !== undefined))];
  return [
    {
      type: 'session-start', app: apps.length === 1 ? apps[0]! : `namespace ${namespace}`, namespace, debug: false,
      services: dev.map((d) => ({ name: d.service, workload: d.workload, image: d.image, workDir: '', hotReload: false, dependsOn: [], forwards: [] })),
    },
    ...dev.map((d): SessionEventBody => ({
      type: 'dev-mode', service: d.service, status: 'done',
      message: `in dev mode by ${d.owner} since ${d.since}${d.pod ? (d.pod.ready ? '' : ', dev pod not ready') : ', no dev pod'}`,
      pod: d.pod?.name,
    })),
  ];
}
