/**
 * Reads what the planner needs, read-only: each selected service's workload (and, when it is missing, what
 * is there instead), the namespace's HPAs, and the workloads in dev mode. Requests run concurrently.
 */
import type { DesiredService, DesiredState } from '../desired/build.js';
import { closest } from '../config/suggest.js';
import { DEV_MODE_LABEL } from '../model/dev-mode.js';
import type { KubeObject, ResourceKind } from '../model/kube-object.js';
import { hpaTargets, type ObservedService, type ObservedState } from '../model/observed.js';
import { CORE, type ApiResource, type KubeClient } from './client.js';
import { isKubeError } from './errors.js';

const DEV_KINDS = ['Deployment', 'StatefulSet'] as const;
const WORKLOAD_KINDS: readonly ResourceKind[] = ['Deployment', 'StatefulSet', 'DaemonSet', 'Job', 'CronJob', 'Pod'];

export async function observeState(kube: KubeClient, namespace: string, desired: Pick<DesiredState, 'services'>, options: { readonly findRemoved: boolean }): Promise<ObservedState> {
  const supported = desired.services.filter((s) => isDevKind(s.workload.kind));
  const [hpas, devWorkloads, services, quotas, limitRanges] = await Promise.all([
    supported.length || options.findRemoved ? listKind(kube, 'HorizontalPodAutoscaler', namespace) : Promise.resolve([]),
    options.findRemoved ? listDevWorkloads(kube, namespace) : Promise.resolve([]),
    Promise.all(supported.map((s) => observeWorkload(kube, namespace, s))),
    supported.length ? readableList(kube, CORE.ResourceQuota, namespace) : Promise.resolve([]),
    supported.length ? readableList(kube, CORE.LimitRange, namespace) : Promise.resolve([]),
  ]);
  return {
    namespace,
    hpas,
    quotas,
    limitRanges,
    devWorkloads,
    services: new Map(services.map((s) => [s.service, withHpas(s, hpas)])),
  };
}

/** One service again (re-planning after a conflict, restoring after a failure). */
export async function observeService(kube: KubeClient, namespace: string, service: DesiredService): Promise<ObservedState> {
  return observeState(kube, namespace, { services: [service] }, { findRemoved: false });
}

function isDevKind(kind: string): kind is (typeof DEV_KINDS)[number] {
  return (DEV_KINDS as readonly string[]).includes(kind);
}

async function observeWorkload(kube: KubeClient, namespace: string, service: DesiredService): Promise<ObservedService> {
  const kind = service.workload.kind as (typeof DEV_KINDS)[number];
  const workload = await kube.get(kind, namespace, service.workload.name);
  if (workload) return { service: service.name, workload: { ...workload, kind }, hpas: [] };
  return { service: service.name, workload: undefined, hpas: [], lookup: await lookAround(kube, namespace, kind, service.workload.name) };
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

