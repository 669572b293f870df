/** `nh status`: per service its mode, owner, since, dev pod, readiness and image, read from the cluster. */
import type { DesiredService } from '../../desired/build.js';
import type { KubeClient } from '../../kube/client.js';
import { observeState } from '../../kube/observe.js';
import { observeApp, type ObservedApp } from '../../kube/observe-app.js';
import { devPodSelector, isReady } from '../../kube/pods.js';
import type { KubeObject } from '../../model/kube-object.js';
import type { ObservedService } from '../../model/observed.js';
import { podTemplateOf } from '../../plan/dev-copy.js';
import type { ContainerSpec } from '../../plan/dev-spec.js';
import { readDevState } from '../../plan/dev-state.js';
import type { ParsedCommandLine } from '../args.js';
import type { CliContext } from '../context.js';
import type { Style } from '../terminal.js';
import { openDevSession, outputFormat } from './dev-session.js';

export interface ServiceStatus {
  readonly service: string;
  readonly workload: string;
  /** dev: in dev mode; off: not; missing: no such workload; unsupported: kind without dev mode; invalid: corrupt state. */
  readonly mode: 'dev' | 'off' | 'missing' | 'unsupported' | 'invalid';
  readonly owner: string | null;
  readonly since: string | null;
  readonly pod: string | null;
  readonly ready: boolean;
  readonly image: string | null;
}

/** The app as its record and the cluster tell: installed, revision, and how many of its resources are there and ready. */
export interface AppStatus {
  readonly app: string;
  readonly status: string;
  readonly revision: number | null;
  readonly installedBy: string | null;
  readonly updatedAt: string | null;
  readonly lastError: string | null;
  readonly ready: number;
  readonly total: number;
}

export async function runStatus(ctx: CliContext, args: ParsedCommandLine): Promise<number> {
  const format = outputFormat(args);
  const session = await openDevSession(ctx, args, 'up');
  try {
    const [observed, app] = await Promise.all([
      observeState(session.kube, session.namespace, session.desired, { findRemoved: false, duplicateFor: session.duplicateFor }),
      observeApp(session.kube, session.namespace, session.config.name, undefined, { dryRun: false }),
    ]);
    const statuses = await Promise.all(
      session.desired.services.map((s) => statusOf(session.kube, session.namespace, s, observed.services.get(s.name))),
    );
    const appStatus = app.record || session.config.install ? appStatusOf(session.config.name, app) : undefined;
    ctx.terminal.out(format === 'json'
      ? JSON.stringify({ namespace: session.namespace, ...(appStatus ? { app: appStatus } : {}), services: statuses }, null, 2) + '\n'
      : (appStatus ? renderAppStatus(appStatus, ctx.style) : '') + renderStatus(session.namespace, statuses, ctx.style));
    return 0;
  } finally {
    session.kube.close();
  }
}

async function statusOf(kube: KubeClient, namespace: string, service: DesiredService, seen: ObservedService | undefined): Promise<ServiceStatus> {
  const base = { service: service.name, workload: `${service.workload.kind}/${service.workload.name}`, owner: null, since: null, pod: null, ready: false, image: null };
  if (service.workload.kind === 'CustomResource') return { ...base, mode: 'unsupported' };
  // A service with a dev copy is in dev mode by its copy's state; its source says nothing about it.
  const workload = seen?.copy ?? seen?.workload;
  if (!workload) return { ...base, mode: 'missing' };
  const containers = (podTemplateOf(seen?.copy ? 'Deployment' : service.workload.kind, workload)?.spec['containers'] ?? []) as unknown as ContainerSpec[];
  const target: ContainerSpec | undefined = service.containers[0]?.name ? containers.find((c) => c.name === service.containers[0]!.name) : containers[0];
  const image = typeof target?.['image'] === 'string' ? target['image'] : null;
  const read = readDevState(workload);
  if (read.kind === 'invalid') return { ...base, image, mode: 'invalid' };
  if (read.kind === 'absent') return { ...base, image, mode: 'off' };
  const selector = devPodSelector(workload);
  const pods = selector ? (await kube.list('Pod', namespace, { labelSelector: selector })).items.filter((p) => !p.metadata.deletionTimestamp) : [];
  const pod = pods.find(isReady) ?? pods[0];
  return { ...base, mode: 'dev', image, owner: read.state.owner, since: read.state.since, pod: pod?.metadata.name ?? null, ready: pod ? isReady(pod) : false };
}

function appStatusOf(app: string, observed: ObservedApp): AppStatus {
  const record = observed.record;
  const items = [...observed.inventory.values()];
  return {
    app,
    status: observed.recordInvalid ? 'record unreadable' : record?.status ?? 'not installed',
    revision: record?.revision ?? null,
    installedBy: record?.installedBy ?? null,
    updatedAt: record?.updatedAt ?? null,
    lastError: record?.lastError ?? null,
    ready: items.filter((i) => i.live && resourceReady(i.live)).length,
    total: items.length,
  };
}

/** Workloads count once their replicas are ready; other objects once they exist. */
function resourceReady(object: KubeObject): boolean {
  const status = (object['status'] ?? {}) as Record<string, number | undefined>;
  const replicas = ((object['spec'] as { replicas?: number } | undefined)?.replicas) ?? 1;
  switch (object.kind) {
    case 'Deployment': return (status['availableReplicas'] ?? 0) >= replicas;
    case 'StatefulSet': return (status['readyReplicas'] ?? 0) >= replicas;
    case 'DaemonSet': return (status['numberReady'] ?? 0) >= (status['desiredNumberScheduled'] ?? 0);
    default: return true;
  }
}

function renderAppStatus(app: AppStatus, style: Style): string {
  const color = app.status === 'installed' ? style.green : app.status === 'not installed' ? style.dim : style.yellow;
  const detail = app.revision === null ? '' : `, revision ${app.revision}, ${app.ready}/${app.total} resources ready, by ${app.installedBy} at ${app.updatedAt}`;
  return `app ${style.bold(app.app)}: ${color(app.status)}${detail}${app.lastError ? `\n  last error: ${app.lastError}` : ''}\n\n`;
}

function renderStatus(namespace: string, statuses: readonly ServiceStatus[], style: Style): string {
  const header = ['SERVICE', 'MODE', 'OWNER', 'SINCE', 'POD', 'READY', 'IMAGE'];
  const rows = statuses.map((s) => [s.service, s.mode, s.owner ?? '-', s.since ?? '-', s.pod ?? '-', s.mode === 'dev' ? (s.ready ? 'yes' : 'no') : '-', s.image ?? '-']);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [`namespace ${style.bold(namespace)}`, '', style.bold(line(header)), ...rows.map(line), ''].join('\n');
}
