// A corpus of workload shapes through up --detach and down on the real cluster: after down each object
// (and each HPA) is semantically identical to the original, server-managed fields aside.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { kubectl, useNamespace, waitFor } from '../support/cluster.js';
import { comparable, getObject, projectWith, runNh } from '../support/nh.js';

const ns = useNamespace('devmode-corpus');

const APP = 'localhost/booking-api:1.0';
const MIN = 'localhost/nh-dev-min:1';
const SLEEP = ['sh', '-c', "trap 'exit 0' TERM; while :; do sleep 1; done"];
const healthz = { httpGet: { path: '/healthz', port: 8080 }, periodSeconds: 2 };

interface Shape {
  readonly name: string;
  readonly kind: 'Deployment' | 'StatefulSet';
  /** Container the config puts in dev mode (undefined: the first). */
  readonly container?: string;
  readonly dev?: Record<string, unknown>;
  readonly spec: Record<string, unknown>;
  readonly metadata?: Record<string, unknown>;
  readonly template?: Record<string, unknown>;
}

const app = (extra: Record<string, unknown> = {}) => ({ name: 'app', image: APP, imagePullPolicy: 'Never', ports: [{ containerPort: 8080 }], ...extra });

const SHAPES: readonly Shape[] = [
  { name: 'c-probes', kind: 'Deployment', spec: { replicas: 2 }, template: { containers: [app({ readinessProbe: healthz, livenessProbe: { ...healthz, initialDelaySeconds: 5 }, startupProbe: healthz })] } },
  {
    name: 'c-multi', kind: 'Deployment', container: 'sidecar', spec: { replicas: 1 },
    template: { containers: [app({ readinessProbe: healthz }), { name: 'sidecar', image: MIN, imagePullPolicy: 'Never', command: SLEEP, readinessProbe: { exec: { command: ['true'] } } }] },
  },
  { name: 'c-init', kind: 'Deployment', spec: {}, template: { initContainers: [{ name: 'setup', image: MIN, imagePullPolicy: 'Never', command: ['sh', '-c', 'true'] }], containers: [app()] } },
  {
    name: 'c-volumes', kind: 'Deployment', spec: {},
    template: {
      containers: [app({ volumeMounts: [{ name: 'cfg', mountPath: '/etc/cfg' }, { name: 'scratch', mountPath: '/work' }] })],
      volumes: [{ name: 'cfg', configMap: { name: 'corpus-config' } }, { name: 'scratch', emptyDir: { medium: 'Memory' } }],
    },
  },
  {
    name: 'c-security', kind: 'Deployment', spec: {},
    template: {
      securityContext: { runAsNonRoot: true, runAsUser: 1000, fsGroup: 1000 },
      containers: [app({ securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } } })],
    },
  },
  { name: 'c-sts', kind: 'StatefulSet', spec: { replicas: 2, serviceName: 'c-sts', updateStrategy: { type: 'OnDelete' } }, template: { containers: [app({ readinessProbe: healthz })] } },
  { name: 'c-sts-rolling', kind: 'StatefulSet', spec: { replicas: 1, serviceName: 'c-sts-rolling' }, template: { containers: [app({ livenessProbe: healthz })] } },
  { name: 'c-hpa', kind: 'Deployment', spec: { replicas: 2 }, template: { containers: [app({ resources: { requests: { cpu: '10m' } } })] } },
  {
    name: 'c-annotated', kind: 'Deployment', spec: {},
    metadata: { annotations: { 'argocd.argoproj.io/tracking-id': 'booking:apps/Deployment:x', 'team/owner': 'payments' }, labels: { tier: 'backend' } },
    template: { containers: [app()] },
  },
  {
    name: 'c-env', kind: 'Deployment', spec: {}, dev: { env: [{ name: 'MODE', value: 'dev' }, { name: 'EXTRA', value: '1' }] },
    template: {
      containers: [app({
        env: [{ name: 'MODE', value: 'prod' }, { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }],
        envFrom: [{ configMapRef: { name: 'corpus-config' } }],
      })],
    },
  },
  {
    name: 'c-resources', kind: 'Deployment', spec: {}, dev: { resources: { requests: { cpu: '50m', memory: '32Mi' }, limits: { cpu: '0.25', memory: '64Mi' } } },
    template: { containers: [app({ resources: { requests: { cpu: '0.1', memory: '50M' }, limits: { cpu: '0.5', memory: '128Mi' } } })] },
  },
  { name: 'c-zero', kind: 'Deployment', spec: { replicas: 0 }, template: { containers: [app()] } },
  {
    name: 'c-args', kind: 'Deployment', spec: { strategy: { type: 'Recreate' } },
    template: {
      nodeSelector: { 'kubernetes.io/os': 'linux' }, tolerations: [{ key: 'dedicated', operator: 'Exists', effect: 'NoSchedule' }],
      terminationGracePeriodSeconds: 3,
      containers: [{ name: 'worker', image: MIN, imagePullPolicy: 'Never', command: ['sh', '-c'], args: ['trap "exit 0" TERM; while :; do sleep 1; done'], workingDir: '/tmp' }],
    },
  },
];

function manifest(shape: Shape): unknown {
  const labels = { app: shape.name };
  return {
    apiVersion: 'apps/v1',
    kind: shape.kind,
    metadata: { name: shape.name, ...shape.metadata, labels: { ...labels, ...(shape.metadata?.['labels'] as object | undefined) } },
    spec: {
      selector: { matchLabels: labels },
      ...shape.spec,
      template: {
        metadata: { labels, ...(shape.name === 'c-annotated' ? { annotations: { 'kubectl.kubernetes.io/restartedAt': '2026-11-01T00:00:00Z' } } : {}) },
        spec: { terminationGracePeriodSeconds: 2, ...shape.template },
      },
    },
  };
}

const HPA = {
  apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler',
  metadata: { name: 'c-hpa' },
  spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'c-hpa' }, minReplicas: 2, maxReplicas: 4,
    metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }] },
};

function configYaml(): string {
  const services = SHAPES.map((s) => {
    const dev = { image: MIN, imagePullPolicy: 'Never', workDir: '/work', ...s.dev };
    return {
      name: s.name,
      serviceType: s.kind.toLowerCase(),
      containers: [{ ...(s.container ? { name: s.container } : {}), dev }],
    };
  });
  return JSON.stringify({ configProperties: { version: 'v2' }, application: { services } }, null, 2);
}

let project = '';
const originals = new Map<string, unknown>();

async function allReady(): Promise<void> {
  for (const shape of SHAPES) {
    await waitFor(`${shape.kind} ${shape.name} ready`, () => {
      const o = getObject(ns(), shape.kind, shape.name) as { spec: { replicas: number }; status?: { readyReplicas?: number; replicas?: number } };
      return (o.status?.readyReplicas ?? 0) === o.spec.replicas && (o.status?.replicas ?? 0) === o.spec.replicas;
    }, 180_000, 500);
  }
}

test(`${SHAPES.length} workload shapes are deployed`, async () => {
  kubectl(['-n', ns(), 'create', 'configmap', 'corpus-config', '--from-literal=GREETING=hello']);
  kubectl(['-n', ns(), 'apply', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [...SHAPES.map(manifest), HPA] }) });
  await allReady();
  for (const s of SHAPES) originals.set(`${s.kind}/${s.name}`, comparable(getObject(ns(), s.kind, s.name)));
  originals.set('hpa', comparable(getObject(ns(), 'hpa', 'c-hpa')));
  project = projectWith(configYaml());
});

test('up --detach puts every shape in dev mode; the HPA is held at one replica', async () => {
  const r = await runNh(ns(), ['up', '--detach', '--timeout', '3m'], { cwd: project });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  for (const s of SHAPES) {
    const o = getObject(ns(), s.kind, s.name) as { spec: { replicas: number; template: { spec: { containers: { name: string; image: string; command?: string[]; readinessProbe?: unknown }[] } } } };
    assert.equal(o.spec.replicas, 1, s.name);
    const target = o.spec.template.spec.containers.find((c) => (s.container ? c.name === s.container : true))!;
    assert.equal(target.image, MIN, s.name);
    assert.equal(target.readinessProbe, undefined, s.name);
  }
  const multi = getObject(ns(), 'deployment', 'c-multi') as { spec: { template: { spec: { containers: { readinessProbe?: unknown }[] } } } };
  assert.deepEqual(multi.spec.template.spec.containers[0]!.readinessProbe, { ...healthz, httpGet: { ...healthz.httpGet, scheme: 'HTTP' }, timeoutSeconds: 1, successThreshold: 1, failureThreshold: 3 });
  const hpa = getObject(ns(), 'hpa', 'c-hpa') as { spec: { minReplicas: number; maxReplicas: number } };
  assert.deepEqual([hpa.spec.minReplicas, hpa.spec.maxReplicas], [1, 1]);
  const again = await runNh(ns(), ['plan', '--detailed-exitcode'], { cwd: project });
  assert.equal(again.code, 0, again.stdout);
});

test('down restores every shape and the HPA to exactly the original', async () => {
  const r = await runNh(ns(), ['down', '--timeout', '3m'], { cwd: project });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  for (const s of SHAPES) assert.deepEqual(comparable(getObject(ns(), s.kind, s.name)), originals.get(`${s.kind}/${s.name}`), `${s.kind} ${s.name}`);
  assert.deepEqual(comparable(getObject(ns(), 'hpa', 'c-hpa')), originals.get('hpa'));
  await allReady();
});
