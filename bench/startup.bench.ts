/**
 * Start-to-exit time of the read-only commands a user types all day, `nh status` and `nh plan` on
 * examples/booking, each a fresh process as the user runs it; baseline in the same run and the same loop:
 * `kubectl get deployments` of the same namespace (a fresh process, one list). Runs are interleaved so the
 * three see the same load; medians of an odd count.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ms, summary } from './support.js';

const RUNS = 11;
const repo = fileURLToPath(new URL('../../', import.meta.url));
const kubeconfig = process.env['NH_KUBECONFIG'] ?? '/var/lib/nh-cluster/kubeconfig';
const kubectlBin = '/var/lib/nh-cluster/bin/kubectl';
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
const nh = (command: string) => () => timed(process.execPath, [join(repo, 'bin/nh.js'), command, '--kubeconfig', kubeconfig, '-n', namespace], nhEnv);

function main(): void {
  timed(kubectlBin, ['--kubeconfig', kubeconfig, 'create', 'namespace', namespace]);
  try {
    timed(kubectlBin, ['--kubeconfig', kubeconfig, '-n', namespace, 'apply', '-f', join(booking, 'k8s')]);
    const measures = { 'kubectl get deployments (baseline)': kubectlGet, 'nh status': nh('status'), 'nh plan': nh('plan') };
    const samples = new Map<string, number[]>(Object.keys(measures).map((name) => [name, []]));
    for (const run of Object.values(measures)) run(); // warm the file cache once
    for (let i = 0; i < RUNS; i++) {
      for (const [name, run] of Object.entries(measures)) samples.get(name)!.push(run());
    }
    const baseline = summary(samples.get('kubectl get deployments (baseline)')!).p50;
    for (const [name, values] of samples) {
      const s = summary(values);
      console.log(`${name.padEnd(36)} median ${ms(s.p50)} (min ${ms(s.min)}, max ${ms(s.max)}, n=${s.n}); ${(s.p50 / baseline).toFixed(2)}× kubectl get`);
    }
  } finally {
    spawnSync(kubectlBin, ['--kubeconfig', kubeconfig, 'delete', 'namespace', namespace, '--wait=false'], { stdio: 'ignore' });
  }
}

main();
