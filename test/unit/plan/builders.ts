// Builders of workloads, desired services and observed states for planner tests, and a JSON patch
// applier that plays the API server's part.
import type { DesiredContainer, DesiredService, DesiredState } from '../../../src/desired/build.js';
import type { JsonPatchOp, KubeObject } from '../../../src/model/kube-object.js';
import type { ObservedState } from '../../../src/model/observed.js';
import type { PlanOptions } from '../../../src/plan/planner.js';

export const NS = 'team';
export const ME = 'alice@laptop';

export function aDeployment(name = 'api', overrides: { containers?: object[]; replicas?: number; kind?: string; extra?: object } = {}): KubeObject {
  const kind = overrides.kind ?? 'Deployment';
  return {
    apiVersion: 'apps/v1',
    kind,
    metadata: { name, namespace: NS, resourceVersion: '100', generation: 3, labels: { app: name }, annotations: { 'team/owner': 'payments' } },
    spec: {
      replicas: overrides.replicas ?? 3,
      selector: { matchLabels: { app: name } },
      ...(kind === 'Deployment'
        ? { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } } }
        : { updateStrategy: { type: 'OnDelete' }, serviceName: name }),
      template: {
        metadata: { labels: { app: name } },
        spec: {
          containers: overrides.containers ?? [
            {
              name: 'api',
              image: 'registry/api:1.0',
              imagePullPolicy: 'IfNotPresent',
              args: ['--port', '8080'],
              env: [{ name: 'PORT', value: '8080' }, { name: 'MODE', value: 'prod' }],
              readinessProbe: { httpGet: { path: '/healthz', port: 8080 } },
              livenessProbe: { httpGet: { path: '/healthz', port: 8080 } },
              resources: { requests: { cpu: '250m', memory: '64Mi' } },
              volumeMounts: [{ name: 'config', mountPath: '/etc/api' }],
            },
          ],
          volumes: [{ name: 'config', configMap: { name: 'api-config' } }],
        },
      },
      ...overrides.extra,
    },
  };
}

export function aContainer(overrides: Partial<DesiredContainer> = {}): DesiredContainer {
  return {
    name: 'api', image: 'dev/node:20', imagePullPolicy: 'IfNotPresent', workDir: '/app', env: [{ name: 'MODE', value: 'dev' }],
    resources: undefined, persistentVolumeDirs: [], storageClass: undefined, ...overrides,
  };
}

export function aService(name = 'api', overrides: Partial<DesiredService> = {}): DesiredService {
  return { name, workload: { kind: 'Deployment', name }, containers: [aContainer()], patches: [], configHash: 'hash-1', ...overrides };
}

export function desiredOf(services: DesiredService[], wholeApp = true, allServiceNames = services.map((s) => s.name), app = 'shop'): DesiredState {
  return { app, services, wholeApp, allServiceNames };
}

export function observedOf(workloads: KubeObject[], extra: Partial<ObservedState> = {}, hpas: KubeObject[] = []): ObservedState {
  return {
    namespace: NS,
    services: new Map(workloads.map((w) => [w.metadata.name, { service: w.metadata.name, workload: w, hpas: hpas.filter((h) => (h['spec'] as { scaleTargetRef: { name: string } }).scaleTargetRef.name === w.metadata.name) }])),
    devWorkloads: workloads.filter((w) => w.metadata.labels?.['nh.dev/mode']),
    hpas,
    quotas: [],
    limitRanges: [],
    ...extra,
  };
}

export function options(overrides: Partial<PlanOptions> = {}): PlanOptions {
  return { mode: 'up', identity: ME, now: '2026-11-30T10:00:00.000Z', nhVersion: '0.1.0', force: false, ...overrides };
}

export function anHpa(target: string, min: number | undefined, max: number): KubeObject {
  return {
    apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler',
    metadata: { name: `${target}-hpa`, namespace: NS, resourceVersion: '7' },
    spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: target }, ...(min === undefined ? {} : { minReplicas: min }), maxReplicas: max },
  };
}

/** Applies a JSON patch as the API server would, bumping resourceVersion; throws 409 on a stale precondition. */
export function applyPatch(object: KubeObject, ops: readonly JsonPatchOp[]): KubeObject {
  const doc = structuredClone(object) as unknown as Record<string, unknown>;
  for (const op of ops) {
    const keys = op.path.split('/').slice(1).map((k) => k.replace(/~1/g, '/').replace(/~0/g, '~'));
    const last = keys.pop()!;
    let parent: unknown = doc;
    for (const k of keys) parent = (parent as Record<string, unknown>)[k];
    if (typeof parent !== 'object' || parent === null) throw new Error(`no parent for ${op.path}`);
    const container = parent as Record<string, unknown>;
    if (op.op === 'remove') {
      if (!(last in container)) throw new Error(`remove of missing ${op.path}`);
      if (Array.isArray(container)) container.splice(Number(last), 1);
      else delete container[last];
    } else if (op.op === 'test') {
      if (JSON.stringify(container[last]) !== JSON.stringify(op.value)) throw new Error(`test failed at ${op.path}`);
    } else if (op.path === '/metadata/resourceVersion') {
      if (container[last] !== op.value) throw Object.assign(new Error('conflict'), { status: 409 });
    } else {
      container[last] = structuredClone(op.value);
    }
  }
  const meta = doc['metadata'] as { resourceVersion: string };
  meta.resourceVersion = String(Number(meta.resourceVersion) + 1);
  return doc as unknown as KubeObject;
}

/** The object without resourceVersion (which every write changes) and empty maps (the API server omits them). */
export function withoutVersion(object: KubeObject): unknown {
  const copy = structuredClone(object) as { metadata: { resourceVersion?: string; annotations?: object; labels?: object } };
  delete copy.metadata.resourceVersion;
  for (const key of ['annotations', 'labels'] as const) {
    if (copy.metadata[key] && Object.keys(copy.metadata[key]).length === 0) delete copy.metadata[key];
  }
  return copy;
}
