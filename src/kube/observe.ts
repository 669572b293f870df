/**
 * Reads what the planner needs, read-only: each selected service's workload (and, when it is missing, what
 * is there instead), the namespace's HPAs, and the workloads in dev mode. Requests run concurrently.
 */
import type { DesiredService, DesiredState } from '../desired/build.js';
import { closest } from '../config/suggest.js';
import { COPY_LABEL, COPY_OF_ANNOTATION, DEV_MODE_LABEL } from '../model/dev-mode.js';
import type { KubeObject, ResourceKind } from '../model/kube-object.js';
import { hpaTargets, type ObservedService, type ObservedState } from '../model/observed.js';
import { CORE, type ApiResource, type KubeClient } from './client.js';
import { isKubeError } from './errors.js';
import { labelSelectorOf } from './pods.js';
import { copyKey, devWorkloadOf } from '../model/dev-workload.js';

/** Kinds nh switches in place, and so lists to find the workloads in dev mode (dev copies are Deployments). */
const DEV_KINDS = ['Deployment', 'StatefulSet'] as const;
const WORKLOAD_KINDS: readonly ResourceKind[] = ['Deployment', 'StatefulSet', 'DaemonSet', 'Job', 'CronJob', 'Pod'];

export interface ObserveOptions {
  /** Also list every workload in dev mode (a whole-app `up`: services removed from the config). */
  readonly findRemoved: boolean;
  /** Duplicate mode: read this identity's dev copies. */
  readonly duplicateFor?: string | undefined;
}

export async function observeState(kube: KubeClient, namespace: string, desired: Pick<DesiredState, 'services'>, options: ObserveOptions): Promise<ObservedState> {
  const supported = desired.services.filter((s) => isWorkloadKind(s.workload.kind));
  const [hpas, devWorkloads, services, quotas, limitRanges] = await Promise.all([
    supported.length || options.findRemoved ? listKind(kube, 'HorizontalPodAutoscaler', namespace) : Promise.resolve([]),
    options.findRemoved ? listDevWorkloads(kube, namespace) : Promise.resolve([]),
    Promise.all(supported.map((s) => observeWorkload(kube, namespace, s, options.duplicateFor))),
    supported.length ? readableList(kube, CORE.ResourceQuota, namespace) : Promise.resolve([]),
    supported.length ? readableList(kube, CORE.LimitRange, namespace) : Promise.resolve([]),
  ]);
  return {
    namespace,
    hpas,
    quotas,
    limitRanges,
    devWorkloads,
    copySources: await readCopySources(kube, namespace, devWorkloads),
    services: new Map(services.map((s) => [s.service, withHpas(s, hpas)])),
  };
}

/** One service again (re-planning after a conflict, restoring after a failure). */
export async function observeService(kube: KubeClient, namespace: string, service: DesiredService, duplicateFor?: string): Promise<ObservedState> {
  return observeState(kube, namespace, { services: [service] }, { findRemoved: false, duplicateFor });
}

function isWorkloadKind(kind: string): kind is ResourceKind {
  return (WORKLOAD_KINDS as readonly string[]).includes(kind);
}

async function observeWorkload(kube: KubeClient, namespace: string, service: DesiredService, duplicateFor: string | undefined): Promise<ObservedService> {
  const kind = service.workload.kind as ResourceKind;
  const dev = devWorkloadOf(service.workload, duplicateFor);
  // A StatefulSet's duplicate has claims of its own (plan/dev-copy.ts), found by the copy's label; deleted ones are on their way out.
  const ownClaims = duplicateFor !== undefined && kind === 'StatefulSet';
  const [workload, copy, claims] = await Promise.all([
    kube.get(kind, namespace, service.workload.name),
    dev.copy ? kube.get('Deployment', namespace, dev.name) : Promise.resolve(undefined),
    ownClaims ? kube.list('PersistentVolumeClaim', namespace, { labelSelector: `${COPY_LABEL}=${copyKey(service.workload, duplicateFor)}` }) : Promise.resolve(undefined),
  ]);
  const withCopy = { ...(copy ? { copy: { ...copy, kind: 'Deployment' } } : {}), ...(claims ? { claims: claims.items.filter((c) => !c.metadata.deletionTimestamp).map((c) => c.metadata.name) } : {}) };
  if (workload) {
    const nodes = kind === 'DaemonSet' && !duplicateFor ? { nodes: await nodesOf(kube, namespace, workload) } : {};
    return { service: service.name, workload: { ...workload, kind }, hpas: [], ...withCopy, ...nodes };
  }
  // A bare Pod in dev mode is gone (its copy holds it): no lookup needed.
  const lookup = copy ? {} : { lookup: await lookAround(kube, namespace, kind, service.workload.name) };
  return { service: service.name, workload: undefined, hpas: [], ...withCopy, ...lookup };
}

/** The nodes a DaemonSet's own pods run on, sorted: where a dev pod can replace one of them. */
async function nodesOf(kube: KubeClient, namespace: string, daemonSet: KubeObject): Promise<string[]> {
  const pods = await kube.list('Pod', namespace, { labelSelector: labelSelectorOf(daemonSet) ?? '' });
  const owned = pods.items.filter((p) => p.metadata.ownerReferences?.some((o) => o.kind === 'DaemonSet' && o.name === daemonSet.metadata.name));
  return [...new Set(owned.map((p) => (p['spec'] as { nodeName?: string } | undefined)?.nodeName).filter((n): n is string => Boolean(n)))].sort();
}

/** The source of every dev copy among the dev workloads, to release it when the copy goes. */
async function readCopySources(kube: KubeClient, namespace: string, devWorkloads: readonly KubeObject[]): Promise<Map<string, KubeObject | undefined>> {
  const sources = devWorkloads.flatMap((w) => {
    const [kind, name] = (w.metadata.annotations?.[COPY_OF_ANNOTATION] ?? '').split('/');
    return kind && name && isWorkloadKind(kind) ? [{ kind, name }] : [];
  });
  const read = await Promise.all(sources.map(async (s) => [`${s.kind}/${s.name}`, await kube.get(s.kind, namespace, s.name)] as const));
  return new Map(read.map(([key, object]) => [key, object && { ...object, kind: key.split('/')[0] }]));
}

/** Best effort (a missing permission only makes the hint shorter): close names and other kinds of that name. */
async function lookAround(kube: KubeClient, namespace: string, kind: ResourceKind, name: string) {
  const [sameKind, others] = await Promise.all([
    listKind(kube, kind, namespace).catch(() => []),
    Promise.all(WORKLOAD_KINDS.filter((k) => k !== kind).map(async (k) => ((await kube.get(k, namespace, name).catch(() => undefined)) ? k : undefined))),
  ]);
  const guess = closest(name, sameKind.map((o) => o.metadata.name));
  return { similarNames: guess ? [guess] : [], otherKinds: others.filter((k): k is ResourceKind => k !== undefined) };
}

function withHpas(observed: ObservedService, hpas: readonly KubeObject[]): ObservedService {
  const workload = observed.workload;
  return workload ? { ...observed, hpas: hpas.filter((h) => hpaTargets(h, workload.kind ?? '', workload.metadata.name)) } : observed;
}

async function listKind(kube: KubeClient, kind: ResourceKind, namespace: string): Promise<KubeObject[]> {
  return (await kube.list(kind, namespace)).items.map((o) => ({ ...o, kind }));
}

/** Quotas are checked when nh may read them; without the right, the API server still refuses at admission. */
async function readableList(kube: KubeClient, resource: ApiResource, namespace: string): Promise<KubeObject[]> {
  try {
    return [...(await kube.listObjects(resource, namespace)).items];
  } catch (error) {
    if (isKubeError(error, 403)) return [];
    throw error;
  }
}

async function listDevWorkloads(kube: KubeClient, namespace: string): Promise<KubeObject[]> {
  const lists = await Promise.all(
    DEV_KINDS.map(async (kind) => (await kube.list(kind, namespace, { labelSelector: DEV_MODE_LABEL })).items.map((o) => ({ ...o, kind }))),
  );
  return lists.flat();
}

