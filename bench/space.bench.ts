/**
 * Dev spaces (issue 12), on the local cluster, wall-clock times of real processes:
 * - `nh space create --app examples/booking` until the app is Ready (a new space each run), beside
 *   `kubectl create namespace` + `kubectl apply -f k8s/` + `kubectl rollout status` of the same app;
 * - `nh space list` over 50 spaces (goal p50 ≤ 1 s), beside `kubectl get namespaces -l nh.dev/space=true`.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ms, summary } from './support.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const kubeconfig = process.env['NH_KUBECONFIG'] ?? '/var/lib/nh-cluster/kubeconfig';
const kubectlBin = '/var/lib/nh-cluster/bin/kubectl';
const RUNS = 3;
const LIST_RUNS = 7;
const SPACES = 50;

function run(bin: string, args: readonly string[]): number {
  const started = performance.now();
  const r = spawnSync(bin, args, { cwd: repo, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', NH_IDENTITY: 'bench@nh' }, timeout: 600_000 });
  const elapsed = performance.now() - started;
  if (r.status !== 0) throw new Error(`${bin} ${args.join(' ')} exited ${r.status}:\n${r.stdout}${r.stderr}`);
  return elapsed;
}
const kubectl = (args: readonly string[]) => run(kubectlBin, ['--kubeconfig', kubeconfig, ...args]);
const nh = (args: readonly string[]) => run(process.execPath, [join(repo, 'bin/nh.js'), ...args, '--kubeconfig', kubeconfig]);
const tag = `${process.pid}`;

function benchCreateWithApp(): void {
  const withNh: number[] = [];
  const byHand: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const space = `nh-bench-space-${tag}-${i}`;
    const plain = `nh-bench-plain-${tag}-${i}`;
    try {
      withNh.push(nh(['space', 'create', space, '--owner', `bench-${tag}`, '--app', 'examples/booking']));
      const started = performance.now();
      kubectl(['create', 'namespace', plain]);
      for (let tries = 0; tries < 150 && spawnSync(kubectlBin, ['--kubeconfig', kubeconfig, '-n', plain, 'get', 'serviceaccount', 'default']).status !== 0; tries++) {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
      }
      kubectl(['-n', plain, 'apply', '-f', 'examples/booking/k8s']);
      kubectl(['-n', plain, 'rollout', 'status', 'deploy/booking-web', 'deploy/booking-api', 'deploy/booking-inventory', '--timeout=300s']);
      byHand.push(performance.now() - started);
    } finally {
      nh(['space', 'delete', space, '--yes']);
      kubectl(['delete', 'namespace', plain, '--wait=true']);
    }
  }
  const n = summary(withNh);
  const h = summary(byHand);
  console.log(`nh space create --app examples/booking until the app is Ready: p50 ${ms(n.p50)} (min ${ms(n.min)}, max ${ms(n.max)}, n=${n.n})`);
  console.log(`  baseline: kubectl create namespace, apply, rollout status:    p50 ${ms(h.p50)} (min ${ms(h.min)}, max ${ms(h.max)}, n=${h.n}); ratio ${(n.p50 / h.p50).toFixed(2)}×`);
}

function benchList(): void {
  const names = Array.from({ length: SPACES }, (_, i) => `nh-bench-list-${tag}-${i}`);
  try {
    for (const name of names) nh(['space', 'create', name, '--owner', `lister-${tag}`]);
    const list: number[] = [];
    const plain: number[] = [];
    for (let i = 0; i < LIST_RUNS; i++) {
      list.push(nh(['space', 'list']));
      plain.push(kubectl(['get', 'namespaces', '-l', 'nh.dev/space=true']));
    }
    const l = summary(list);
    const p = summary(plain);
    console.log(`nh space list over ${SPACES} spaces: p50 ${ms(l.p50)} (min ${ms(l.min)}, max ${ms(l.max)}, n=${l.n}; goal ≤ 1 s)`);
    console.log(`  baseline kubectl get namespaces -l nh.dev/space=true: p50 ${ms(p.p50)}; ratio ${(l.p50 / p.p50).toFixed(2)}×`);
  } finally {
    for (const name of names) spawnSync(process.execPath, [join(repo, 'bin/nh.js'), 'space', 'delete', name, '--yes', '--timeout', '1s', '--kubeconfig', kubeconfig], { cwd: repo });
  }
}

benchList();
benchCreateWithApp();
