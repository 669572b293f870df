/**
 * Dev mode (issue 4):
 * - planning 500 synthetic services, in memory (goal ≤ 50 ms): every service entering, then every one noop;
 * - `nh up --detach` of 10 services against 1 on the local cluster (goal ≤ 1.5×), each run followed by `nh down`;
 * - `nh up --detach` of examples/booking until all dev pods are Ready, and its `nh down`.
 * Wall-clock times of the real CLI process (so they include starting Node and loading the client).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DesiredState } from '../src/desired/build.js';
import type { KubeObject } from '../src/model/kube-object.js';
import type { ObservedState } from '../src/model/observed.js';
import { planChanges, type PlanOptions } from '../src/plan/planner.js';
import { kubectl, repo, timedNh } from './cluster.js';
import { ms, summary } from './support.js';
import { tempDir } from '../test/support/temp-dir.js';

const RUNS = 3;
/** The 10 / 1 ratio swings with where each run falls against the kubelet's 1 s relist: more runs for it. */
const SCALING_RUNS = 7;

// ---------------------------------------------------------------- planning, in memory
function syntheticWorkload(name: string): KubeObject {
  return {
    apiVersion: 'apps/v1', kind: 'Deployment',
    metadata: { name, namespace: 'bench', resourceVersion: '1', labels: { app: name }, annotations: { 'team/owner': 'bench' } },
    spec: {
      replicas: 2, selector: { matchLabels: { app: name } }, strategy: { type: 'RollingUpdate' },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          containers: [
            { name: 'app', image: `registry/${name}:1`, args: ['--port=8080'], env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }],
              readinessProbe: { httpGet: { path: '/healthz', port: 8080 } }, livenessProbe: { httpGet: { path: '/healthz', port: 8080 } },
              resources: { requests: { cpu: '100m', memory: '128Mi' } }, volumeMounts: [{ name: 'cfg', mountPath: '/etc/app' }] },
            { name: 'proxy', image: 'envoy:1', readinessProbe: { tcpSocket: { port: 9901 } } },
          ],
          volumes: [{ name: 'cfg', configMap: { name: 'cfg' } }],
        },
      },
    },
  };
}

function benchPlanning(): void {
  const count = 500;
  const names = Array.from({ length: count }, (_, i) => `svc-${i}`);
  const desired: DesiredState = {
    app: 'bench',
    wholeApp: true,
    allServiceNames: names,
    services: names.map((name) => ({
      name, workload: { kind: 'Deployment', name }, configHash: 'bench', patches: [],
      containers: [{ name: 'app', image: 'dev/node:20', imagePullPolicy: 'IfNotPresent', workDir: '/app', env: [{ name: 'MODE', value: 'dev' }],
        resources: { limits: { cpu: '1', memory: '1Gi' } }, persistentVolumeDirs: [], storageClass: undefined }],
    })),
  };
  const observe = (workloads: KubeObject[]): ObservedState => ({
    namespace: 'bench', hpas: [], quotas: [], limitRanges: [], devWorkloads: workloads.filter((w) => w.metadata.labels?.['nh.dev/mode']),
    services: new Map(workloads.map((w) => [w.metadata.name, { service: w.metadata.name, workload: w, hpas: [] }])),
  });
  const options: PlanOptions = { mode: 'up', identity: 'bench@nh', now: '2026-11-30T00:00:00.000Z', nhVersion: '0', force: false };
  const original = observe(names.map(syntheticWorkload));
  const measure = (observed: ObservedState) => {
    const samples: number[] = [];
    for (let i = 0; i < 26; i++) {
      const started = performance.now();
      const plan = planChanges(desired, observed, options);
      samples.push(performance.now() - started);
      if (plan.services.length !== count) throw new Error('wrong plan');
    }
    return summary(samples.slice(5)); // the first runs warm up the JIT; 21 timed
  };
  const entering = measure(original);
  // The dev objects as the API server would hold them after the plan, to time the all-noop plan.
  const plan = planChanges(desired, original, options);
  const devObjects = names.map((name, i) => {
    const object = structuredClone(original.services.get(name)!.workload!) as unknown as Record<string, unknown>;
    for (const op of plan.services[i]!.workloadPatch!.ops) applyOp(object, op);
    return object as unknown as KubeObject;
  });
  const noop = measure(observe(devObjects));
  console.log(`planning ${count} services, all entering: p50 ${ms(entering.p50)}, p95 ${ms(entering.p95)} (goal ≤ 50 ms)`);
  console.log(`planning ${count} services, all noop:     p50 ${ms(noop.p50)}, p95 ${ms(noop.p95)}`);
}

function applyOp(document: Record<string, unknown>, op: { op: string; path: string; value?: unknown }): void {
  const keys = op.path.split('/').slice(1).map((k) => k.replace(/~1/g, '/').replace(/~0/g, '~'));
  const last = keys.pop()!;
  let parent = document;
  for (const key of keys) parent = parent[key] as Record<string, unknown>;
  if (op.op === 'remove') delete parent[last];
  else parent[last] = structuredClone(op.value);
}

// ---------------------------------------------------------------- on the cluster
const names = Array.from({ length: 10 }, (_, i) => `bench-${i}`);
const booking = ['booking-web', 'booking-api', 'booking-inventory'];

/**
 * Every timed run starts from a settled namespace: `nh down` returns once the dev pods are gone, while the
 * restored pods may still be starting, and would slow whichever run comes next.
 */
function settle(namespace: string, deployments: readonly string[]): void {
  for (const name of deployments) kubectl(['-n', namespace, 'rollout', 'status', `deployment/${name}`, '--timeout=240s']);
}

function tenServicesProject(namespace: string): string {
  const items = names.map((name) => ({
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name },
    spec: {
      replicas: 1, selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { terminationGracePeriodSeconds: 2, containers: [{ name: 'app', image: 'localhost/booking-api:1.0', imagePullPolicy: 'Never', readinessProbe: { httpGet: { path: '/healthz', port: 8080 }, periodSeconds: 1 } }] },
      },
    },
  }));
  kubectl(['-n', namespace, 'apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items }));
  settle(namespace, names);
  const dir = tempDir('nh-bench-');
  mkdirSync(join(dir, '.nocalhost'));
  const services = names.map((name) => ({ name, containers: [{ dev: { image: 'localhost/nh-dev-min:1', imagePullPolicy: 'Never', workDir: '/work' } }] }));
  writeFileSync(join(dir, '.nocalhost', 'config.yaml'), JSON.stringify({ configProperties: { version: 'v2' }, application: { services } }));
  return dir;
}

function benchScaling(): void {
  const namespace = `nh-bench-devmode-${process.pid}`;
  kubectl(['create', 'namespace', namespace]);
  try {
    const project = tenServicesProject(namespace);
    const one: number[] = [];
    const ten: number[] = [];
    // nh's own share (start, config, reading the cluster, planning): `nh plan` of the same selections.
    const planOne: number[] = [];
    const planTen: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      planOne.push(timedNh(namespace, project, ['plan', 'bench-0']));
      planTen.push(timedNh(namespace, project, ['plan']));
    }
    console.log(`nh plan, 1 service:   p50 ${ms(summary(planOne).p50)}; 10 services: p50 ${ms(summary(planTen).p50)}`);
    for (let run = 0; run < SCALING_RUNS; run++) {
      one.push(timedNh(namespace, project, ['up', '--detach', 'bench-0']));
      timedNh(namespace, project, ['down', 'bench-0']);
      settle(namespace, names);
      ten.push(timedNh(namespace, project, ['up', '--detach']));
      timedNh(namespace, project, ['down']);
      settle(namespace, names);
    }
    const a = summary(one);
    const b = summary(ten);
    console.log(`nh up --detach, 1 service:   p50 ${ms(a.p50)} (min ${ms(a.min)}, max ${ms(a.max)}, n=${a.n})`);
    console.log(`nh up --detach, 10 services: p50 ${ms(b.p50)} (min ${ms(b.min)}, max ${ms(b.max)}, n=${b.n})`);
    console.log(`ratio 10 / 1: ${(b.p50 / a.p50).toFixed(2)}× (goal ≤ 1.5×)`);
  } finally {
    kubectl(['delete', 'namespace', namespace, '--wait=false']);
  }
}

function benchBooking(): void {
  const namespace = `nh-bench-booking-${process.pid}`;
  kubectl(['create', 'namespace', namespace]);
  try {
    kubectl(['-n', namespace, 'apply', '-f', join(repo, 'examples/booking/k8s')]);
    settle(namespace, booking);
    const cwd = join(repo, 'examples/booking');
    const up: number[] = [];
    const down: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      up.push(timedNh(namespace, cwd, ['up', '--detach', '--no-install']));
      down.push(timedNh(namespace, cwd, ['down']));
      settle(namespace, booking);
    }
    console.log(`examples/booking, nh up --detach until all 3 dev pods Ready: p50 ${ms(summary(up).p50)} (min ${ms(summary(up).min)}, n=${RUNS})`);
    console.log(`examples/booking, nh down until the dev pods are gone:       p50 ${ms(summary(down).p50)} (min ${ms(summary(down).min)}, n=${RUNS})`);
  } finally {
    kubectl(['delete', 'namespace', namespace, '--wait=false']);
  }
}

benchPlanning();
// `node dist/bench/devmode.bench.js plan` times planning only (no cluster needed).
if (process.argv[2] !== 'plan') {
  benchScaling();
  benchBooking();
}
