/**
 * The app as nh will apply it, pure: the rendered objects stamped as nh's (labels), with the config's
 * install env in their pod templates, in apply order, each with a hash; the workloads a service's
 * `dependLabelSelector` holds back; the hook Jobs of each phase. No cluster access: the planner compares this
 * with what it observed.
 */
import { createHash } from 'node:crypto';
import type { AppConfig, DependencyWaits, EnvVar, HookPhase } from '../config/model.js';
import type { SourcePosition } from '../config/problems.js';
import { APP_LABEL, HOOK_LABEL, MANAGED_BY_LABEL, MANAGED_BY_VALUE } from '../model/app-record.js';
import { cloneJson, type KubeObject } from '../model/kube-object.js';
import type { RenderedObject } from '../render/manifests.js';

export interface DesiredResource {
  readonly object: KubeObject;
  readonly hash: string;
  readonly at: SourcePosition;
  /** Apply order: namespaces and CRDs first, workloads after what they mount and use. */
  readonly tier: number;
  /** Set when a service's dependLabelSelector holds this workload back until its dependencies are ready. */
  readonly waitFor?: { readonly service: string; readonly waits: DependencyWaits };
}

export interface DesiredApp {
  readonly app: string;
  readonly manifestType: string;
  readonly source: string;
  readonly resources: readonly DesiredResource[];
  readonly hooks: Readonly<Record<HookPhase, readonly KubeObject[]>>;
  /** Changes whenever anything nh would apply or run changes. */
  readonly hash: string;
  /** Problems found only once rendered (a duplicate object, a dependLabelSelector on a workload the app lacks). */
  readonly problems: readonly { readonly at: SourcePosition; readonly message: string; readonly hint: string }[];
}

const TIERS: ReadonlyArray<readonly string[]> = [
  ['Namespace'],
  ['CustomResourceDefinition', 'PriorityClass', 'StorageClass'],
  ['ServiceAccount', 'Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding', 'ResourceQuota', 'LimitRange', 'NetworkPolicy'],
  ['ConfigMap', 'Secret', 'PersistentVolume', 'PersistentVolumeClaim'],
  ['Service'],
  ['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job', 'CronJob', 'Pod', 'ReplicationController'],
];

/** Where each kind keeps its pod spec. */
const POD_SPEC_PATHS: Readonly<Record<string, readonly string[]>> = {
  Deployment: ['spec', 'template', 'spec'],
  StatefulSet: ['spec', 'template', 'spec'],
  DaemonSet: ['spec', 'template', 'spec'],
  ReplicaSet: ['spec', 'template', 'spec'],
  Job: ['spec', 'template', 'spec'],
  CronJob: ['spec', 'jobTemplate', 'spec', 'template', 'spec'],
  Pod: ['spec'],
};

export function buildDesiredApp(config: AppConfig, rendered: { resources: readonly RenderedObject[]; hooks: Readonly<Record<HookPhase, readonly RenderedObject[]>>; source: string }): DesiredApp {
  const app = config.name;
  const problems: { at: SourcePosition; message: string; hint: string }[] = [];
  const seen = new Map<string, SourcePosition>();
  const resources: DesiredResource[] = [];
  for (const { object, at } of rendered.resources) {
    const id = `${object.kind}/${object.metadata.namespace ?? ''}/${object.metadata.name}`;
    const first = seen.get(id);
    if (first) {
      problems.push({ at, message: `${object.kind} \`${object.metadata.name}\` is defined twice (first at ${first.file}:${first.line})`, hint: 'remove one of them, or list it in ignoredPath' });
      continue;
    }
    seen.set(id, at);
    const stamped = stamp(cloneJson(object), app);
    injectEnv(stamped, config);
    const service = config.services.find((s) => s.workload.kind === object.kind && s.workload.name === object.metadata.name);
    const waits = service?.install.waitFor;
    const hasWaits = waits && (waits.pods.length || waits.jobs.length || waits.tcp.length || waits.http.length);
    resources.push({
      object: stamped, hash: hashOf(stamped), at, tier: tierOf(String(object.kind)),
      ...(service && hasWaits ? { waitFor: { service: service.name, waits } } : {}),
    });
  }
  for (const service of config.services) {
    const w = service.install.waitFor;
    if ((w.pods.length || w.jobs.length || w.tcp.length || w.http.length) && !resources.some((r) => r.waitFor?.service === service.name)) {
      problems.push({ at: { file: service.source.file, line: 1, col: 1 }, message: `service \`${service.name}\` has dependLabelSelector, but the app installs no ${service.workload.kind} \`${service.workload.name}\``,
        hint: 'check the service name and serviceType against the manifests' });
    }
  }
  resources.sort((a, b) => a.tier - b.tier);
  const hooks = Object.fromEntries(
    Object.entries(rendered.hooks).map(([phase, list]) => [phase, list.map(({ object }) => hookJob(cloneJson(object), app, phase))]),
  ) as Record<HookPhase, KubeObject[]>;
  const hash = hashOf({ resources: resources.map((r) => [r.hash, r.waitFor ?? null]), hooks });
  return { app, manifestType: config.install?.manifestType ?? 'none', source: rendered.source, resources, hooks, hash, problems };
}

function tierOf(kind: string): number {
  const tier = TIERS.findIndex((kinds) => kinds.includes(kind));
  return tier < 0 ? TIERS.length : tier;
}

/** nh's labels on the object's own metadata (not its pod template: pods stay as the chart made them). */
function stamp(object: KubeObject, app: string): KubeObject {
  const metadata = object.metadata as { labels?: Record<string, string> };
  metadata.labels = { ...(metadata.labels ?? {}), [MANAGED_BY_LABEL]: MANAGED_BY_VALUE, [APP_LABEL]: app };
  return object;
}

/** A hook Job runs in the app's namespace whatever its manifest says, marked with its phase. */
function hookJob(object: KubeObject, app: string, phase: string): KubeObject {
  const stamped = stamp(object, app);
  const metadata = stamped.metadata as { namespace?: string; labels: Record<string, string> };
  delete metadata.namespace;
  metadata.labels[HOOK_LABEL] = phase;
  return stamped;
}

/** App env into every container, then each service's container env into its own container; config wins over the manifest. */
function injectEnv(object: KubeObject, config: AppConfig): void {
  const path = POD_SPEC_PATHS[String(object.kind)];
  if (!path) return;
  let spec: unknown = object;
  for (const key of path) spec = (spec as Record<string, unknown> | undefined)?.[key];
  const containers = (spec as { containers?: { name: string; env?: { name: string; value?: string }[] }[] } | undefined)?.containers;
  if (!containers) return;
  const app = config.install?.env ?? [];
  const service = config.services.find((s) => s.workload.kind === object.kind && s.workload.name === object.metadata.name);
  for (const container of containers) {
    const own = service?.install.containers.find((c) => c.name === container.name || (c.name === undefined && containers.length === 1));
    setEnv(container, [...app, ...(own?.env ?? [])]);
  }
}

function setEnv(container: { env?: { name: string; value?: string }[] }, vars: readonly EnvVar[]): void {
  if (vars.length === 0) return;
  const env = container.env ?? [];
  for (const { name, value } of vars) {
    const existing = env.findIndex((e) => e.name === name);
    if (existing >= 0) env[existing] = { name, value };
    else env.push({ name, value });
  }
  container.env = env;
}

export function hashOf(value: unknown): string {
  return createHash('sha256').update(stableJson(value)).digest('hex').slice(0, 16);
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${stableJson((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
