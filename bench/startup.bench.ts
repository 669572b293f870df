/**
 * Start-to-exit time of the commands a user types all day, each a fresh process as the user runs it, on
 * examples/booking: `nh status` and `nh plan` (the cluster's read-only commands), and the steps below them,
 * `nh --version` (Node's start and nh's bundle) and `nh validate` (plus reading and checking the config).
 * Baselines in the same run and loop: `kubectl get deployments` of the same namespace (a fresh process, one
 * list) and Node's own start (`node -e ''`; also without NODE_EXTRA_CA_CERTS when it is set, since Node parses
 * that file at every start and kubectl does no such thing). nh starts as a user's does, through bin/nh (which
 * keeps that variable from Node's start). With NH_BENCH_BEFORE=…/bin/nh.js another build's commands run in the
 * same loop. Node processes also report the CPU time they used (cpu-at-exit.preload.ts),
 * which the shared machine's load hardly moves. Runs are interleaved so all see the same load; medians of an
 * odd count.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeBin, kubeconfig, kubectlBin, nhBin, nhCommand, repo } from './cluster.js';
import { ms, summary } from './support.js';

const RUNS = 11;
const namespace = `nh-bench-startup-${process.pid}`;
const booking = join(repo, 'examples/booking');
const preload = fileURLToPath(new URL('./cpu-at-exit.preload.js', import.meta.url));

interface Sample {
  readonly wall: number;
  readonly cpu: number | undefined;
}

/** Runs a command to its end: its wall time, and the CPU time it reported; throws when it fails. */
function timed(command: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): Sample {
  const started = performance.now();
  const r = spawnSync(command, args, { cwd: booking, encoding: 'utf8', env, timeout: 120_000 });
  const wall = performance.now() - started;
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} exited ${r.status}: ${r.stdout}${r.stderr}`);
  const cpu = /\ncpu-ms ([\d.]+)\n$/.exec(r.stderr)?.[1];
  return { wall, cpu: cpu === undefined ? undefined : Number(cpu) };
}

const nhEnv = { ...process.env, NO_COLOR: '1', NH_IDENTITY: 'bench@nh' };
const extraCaCerts = process.env['NODE_EXTRA_CA_CERTS'];
const node = (args: readonly string[], env: NodeJS.ProcessEnv = process.env) => () => timed(process.execPath, ['--import', preload, ...args], env);
const cluster = ['--kubeconfig', kubeconfig, '-n', namespace];
/** The nh steps, each of a build (this checkout's, or NH_BENCH_BEFORE's), labelled with `suffix`. */
const nhSteps = (bin: string, suffix: string) => {
  const nh = (args: readonly string[]) => () => {
    const started = nhCommand(bin, [`--import=${preload}`], args, nhEnv);
    return timed(started.command, started.args, started.env);
  };
  return {
    [`nh --version${suffix}`]: nh(['--version']),
    [`nh validate${suffix}`]: nh(['validate']),
    [`nh status${suffix}`]: nh(['status', ...cluster]),
    [`nh plan${suffix}`]: nh(['plan', ...cluster]),
  };
};

function main(): void {
  timed(kubectlBin, ['--kubeconfig', kubeconfig, 'create', 'namespace', namespace]);
  try {
    timed(kubectlBin, ['--kubeconfig', kubeconfig, '-n', namespace, 'apply', '-f', join(booking, 'k8s')]);
    const measures: Record<string, () => Sample> = {
      'kubectl get deployments (baseline)': () => timed(kubectlBin, ['--kubeconfig', kubeconfig, '-n', namespace, 'get', 'deployments']),
      "node -e '' (Node's own start)": node(['-e', '']),
      ...(extraCaCerts ? { "node -e '', NODE_EXTRA_CA_CERTS unset": node(['-e', ''], { ...process.env, NODE_EXTRA_CA_CERTS: '' }) } : {}),
      ...nhSteps(nhBin, ''),
      ...(beforeBin ? nhSteps(beforeBin, ' (NH_BENCH_BEFORE)') : {}),
    };
    const samples = new Map<string, Sample[]>(Object.keys(measures).map((name) => [name, []]));
    for (const run of Object.values(measures)) run(); // warm the file cache, and write nh's code cache, once
    for (let i = 0; i < RUNS; i++) {
      for (const [name, run] of Object.entries(measures)) samples.get(name)!.push(run());
    }
    if (extraCaCerts) console.log(`NODE_EXTRA_CA_CERTS=${extraCaCerts} (every Node start parses it)`);
    const baseline = summary(samples.get('kubectl get deployments (baseline)')!.map((s) => s.wall)).p50;
    for (const [name, values] of samples) {
      const wall = summary(values.map((s) => s.wall));
      const cpus = values.flatMap((s) => (s.cpu === undefined ? [] : [s.cpu]));
      const cpu = cpus.length === values.length ? `; CPU median ${ms(summary(cpus).p50)}` : '';
      console.log(`${name.padEnd(40)} median ${ms(wall.p50)} (min ${ms(wall.min)}, max ${ms(wall.max)}, n=${wall.n}); ${(wall.p50 / baseline).toFixed(2)}× kubectl get${cpu}`);
    }
  } finally {
    spawnSync(kubectlBin, ['--kubeconfig', kubeconfig, 'delete', 'namespace', namespace, '--wait=false'], { stdio: 'ignore' });
  }
}

main();
