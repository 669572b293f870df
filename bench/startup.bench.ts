/**
 * Start-to-exit time of the read-only commands a user types all day, `nh status` and `nh plan` on
 * examples/booking, each a fresh process as the user runs it; baseline in the same run and the same loop:
 * `kubectl get deployments` of the same namespace (a fresh process, one list), and Node's own start
 * (`node -e ''`). With NH_BENCH_BEFORE=…/bin/nh.js another build's status and plan run in the same loop.
 * Runs are interleaved so all see the same load; medians of an odd count.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { beforeBin, kubeconfig, kubectlBin, nhBin, repo } from './cluster.js';
import { ms, summary } from './support.js';

const RUNS = 11;
const namespace = `nh-bench-startup-${process.pid}`;
const booking = join(repo, 'examples/booking');

/** Runs a command to its end and returns its wall time; throws when it fails. */
function timed(command: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): number {
  const started = performance.now();
  const r = spawnSync(command, args, { cwd: booking, encoding: 'utf8', env, timeout: 120_000 });
  const elapsed = performance.now() - started;
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} exited ${r.status}: ${r.stdout}${r.stderr}`);
  return elapsed;
}

const nhEnv = { ...process.env, NO_COLOR: '1', NH_IDENTITY: 'bench@nh' };
const kubectlGet = () => timed(kubectlBin, ['--kubeconfig', kubeconfig, '-n', namespace, 'get', 'deployments']);
const nodeStart = () => timed(process.execPath, ['-e', '']);
// Node parses the file NODE_EXTRA_CA_CERTS names at every start, before any script runs (this project's
// machines set it to the system bundle): shown apart, since kubectl does no such thing.
const extraCaCerts = process.env['NODE_EXTRA_CA_CERTS'];
const nodeStartWithoutExtraCa = () => timed(process.execPath, ['-e', ''], { ...process.env, NODE_EXTRA_CA_CERTS: '' });
const nh = (command: string, bin = nhBin) => () => timed(process.execPath, [bin, command, '--kubeconfig', kubeconfig, '-n', namespace], nhEnv);

function main(): void {
  timed(kubectlBin, ['--kubeconfig', kubeconfig, 'create', 'namespace', namespace]);
  try {
    timed(kubectlBin, ['--kubeconfig', kubeconfig, '-n', namespace, 'apply', '-f', join(booking, 'k8s')]);
    const measures: Record<string, () => number> = {
      'kubectl get deployments (baseline)': kubectlGet,
      "node -e '' (Node's own start)": nodeStart,
      ...(extraCaCerts ? { "node -e '', NODE_EXTRA_CA_CERTS unset": nodeStartWithoutExtraCa } : {}),
      'nh status': nh('status'),
      'nh plan': nh('plan'),
      ...(beforeBin ? { 'nh status (NH_BENCH_BEFORE)': nh('status', beforeBin), 'nh plan (NH_BENCH_BEFORE)': nh('plan', beforeBin) } : {}),
    };
    const samples = new Map<string, number[]>(Object.keys(measures).map((name) => [name, []]));
    for (const run of Object.values(measures)) run(); // warm the file cache, and write nh's code cache, once
    for (let i = 0; i < RUNS; i++) {
      for (const [name, run] of Object.entries(measures)) samples.get(name)!.push(run());
    }
    if (extraCaCerts) console.log(`NODE_EXTRA_CA_CERTS=${extraCaCerts} (every Node start parses it)`);
    const baseline = summary(samples.get('kubectl get deployments (baseline)')!).p50;
    for (const [name, values] of samples) {
      const s = summary(values);
      console.log(`${name.padEnd(40)} median ${ms(s.p50)} (min ${ms(s.min)}, max ${ms(s.max)}, n=${s.n}); ${(s.p50 / baseline).toFixed(2)}× kubectl get`);
    }
  } finally {
    spawnSync(kubectlBin, ['--kubeconfig', kubeconfig, 'delete', 'namespace', namespace, '--wait=false'], { stdio: 'ignore' });
  }
}

main();
