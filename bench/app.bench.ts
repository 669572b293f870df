/**
 * The app's install (issue 11), on the local cluster, wall-clock times of real processes:
 * - examples/booking on an empty namespace: `nh up --detach` against the same work done by hand in the same
 *   run (`kubectl apply -f k8s/`, `kubectl rollout status`, then `nh up --detach --no-install`), interleaved,
 *   each run in a new namespace (goal ≤ 1.0×);
 * - `nh plan` on an installed app of 50 resources (goal p50 ≤ 1.5 s), beside `kubectl diff` of the same files
 *   (kubectl's server-side dry-run diff) as the baseline.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ms, summary } from './support.js';
import { tempDir } from '../test/support/temp-dir.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const kubeconfig = process.env['NH_KUBECONFIG'] ?? '/var/lib/nh-cluster/kubeconfig';
const kubectlBin = '/var/lib/nh-cluster/bin/kubectl';
const RUNS = 5;
const PLAN_RUNS = 7;
const booking = ['booking-web', 'booking-api', 'booking-inventory'];

function run(bin: string, args: readonly string[], cwd = repo, okCodes = [0]): number {
  const started = performance.now();
  const r = spawnSync(bin, args, { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', NH_IDENTITY: 'bench@nh' }, timeout: 600_000 });
  const elapsed = performance.now() - started;
  if (!okCodes.includes(r.status ?? -1)) throw new Error(`${bin} ${args.join(' ')} exited ${r.status}:\n${r.stdout}${r.stderr}`);
  return elapsed;
}

const kubectl = (args: readonly string[], okCodes?: number[]) => run(kubectlBin, ['--kubeconfig', kubeconfig, ...args], repo, okCodes);
const nh = (namespace: string, cwd: string, args: readonly string[], okCodes?: number[]) =>
  run(process.execPath, [join(repo, 'bin/nh.js'), ...args, '--kubeconfig', kubeconfig, '-n', namespace], cwd, okCodes);

function freshNamespace(tag: string, i: number): string {
  const name = `nh-bench-app-${tag}-${process.pid}-${i}`;
  kubectl(['create', 'namespace', name]);
  // Pods are refused until the namespace's default ServiceAccount exists.
  for (let tries = 0; tries < 150; tries++) {
    if (spawnSync(kubectlBin, ['--kubeconfig', kubeconfig, '-n', name, 'get', 'serviceaccount', 'default']).status === 0) break;
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
  }
  return name;
}

function benchBookingInstall(): void {
  const cwd = join(repo, 'examples/booking');
  const byHand: number[] = [];
  const withNh: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const a = freshNamespace('hand', i);
    const b = freshNamespace('nh', i);
    try {
      // Interleaved, alternating which goes first, so drift in the machine's load hits both alike.
      const hand = () => {
        const started = performance.now();
        kubectl(['-n', a, 'apply', '-f', join(cwd, 'k8s')]);
        kubectl(['-n', a, 'rollout', 'status', ...booking.map((s) => `deploy/${s}`), '--timeout=300s']);
        nh(a, cwd, ['up', '--detach', '--no-install']);
        byHand.push(performance.now() - started);
      };
      const withNhRun = () => withNh.push(nh(b, cwd, ['up', '--detach']));
      if (i % 2 === 0) {
        hand();
        withNhRun();
      } else {
        withNhRun();
        hand();
      }
    } finally {
      kubectl(['delete', 'namespace', a, b, '--wait=true', '--timeout=300s']);
    }
  }
  const h = summary(byHand);
  const n = summary(withNh);
  console.log(`examples/booking on an empty namespace until 3 dev pods Ready:`);
  console.log(`  by hand (kubectl apply, rollout status, nh up --detach --no-install): p50 ${ms(h.p50)} (min ${ms(h.min)}, max ${ms(h.max)}, n=${h.n})`);
  console.log(`  nh up --detach (install + dev mode):                                 p50 ${ms(n.p50)} (min ${ms(n.min)}, max ${ms(n.max)}, n=${n.n})`);
  console.log(`  ratio nh / by hand: ${(n.p50 / h.p50).toFixed(2)}× (goal ≤ 1.0×)`);
}

/** 50 resources: 10 Deployments (0 replicas: the plan's cost is the API, not pods), 10 Services, 20 ConfigMaps, 10 Secrets. */
function fiftyResources(): string {
  const dir = tempDir('nh-bench-app50-');
  mkdirSync(join(dir, '.nocalhost'));
  mkdirSync(join(dir, 'k8s'));
  writeFileSync(join(dir, '.nocalhost/config.yaml'), 'application:\n  name: fifty\n  manifestType: rawManifestLocal\n  resourcePath: [k8s]\n  services: []\n');
  for (let i = 0; i < 10; i++) {
    writeFileSync(join(dir, 'k8s', `svc-${i}.yaml`), [
      `apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: svc-${i}}\nspec:\n  replicas: 0\n  selector: {matchLabels: {app: svc-${i}}}\n  template:\n    metadata: {labels: {app: svc-${i}}}\n    spec: {containers: [{name: app, image: "localhost/nh-dev-min:1", env: [{name: INDEX, value: "${i}"}]}]}\n`,
      `apiVersion: v1\nkind: Service\nmetadata: {name: svc-${i}}\nspec: {selector: {app: svc-${i}}, ports: [{port: 80, targetPort: 8080}]}\n`,
      `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: svc-${i}-a}\ndata: {a: "${i}"}\n`,
      `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: svc-${i}-b}\ndata: {b: "${i}"}\n`,
      `apiVersion: v1\nkind: Secret\nmetadata: {name: svc-${i}}\nstringData: {token: "t${i}"}\n`,
    ].join('---\n'));
  }
  return dir;
}

function benchPlanFifty(): void {
  const cwd = fiftyResources();
  const namespace = freshNamespace('plan', 0);
  try {
    nh(namespace, cwd, ['install']);
    const plan: number[] = [];
    const diff: number[] = [];
    for (let i = 0; i < PLAN_RUNS; i++) {
      plan.push(nh(namespace, cwd, ['plan', '--detailed-exitcode']));
      // kubectl diff exits 1 when something differs: nh's labels are not in the files, so it always does.
      diff.push(kubectl(['-n', namespace, 'diff', '--server-side', '--force-conflicts', '-f', join(cwd, 'k8s')], [0, 1]));
    }
    const p = summary(plan);
    const d = summary(diff);
    console.log(`nh plan on an installed app of 50 resources (nothing to do): p50 ${ms(p.p50)} (min ${ms(p.min)}, max ${ms(p.max)}, n=${p.n}; goal ≤ 1.5 s)`);
    console.log(`  baseline kubectl diff --server-side of the same 50:        p50 ${ms(d.p50)} (min ${ms(d.min)}, max ${ms(d.max)}, n=${d.n}); ratio ${(p.p50 / d.p50).toFixed(2)}×`);
  } finally {
    kubectl(['delete', 'namespace', namespace, '--wait=false']);
  }
}

benchPlanFifty();
benchBookingInstall();
