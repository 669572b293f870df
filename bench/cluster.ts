/** What the cluster benchmarks share: the local cluster's kubectl, a timed `nh` process, polling a forwarded port. */
import { spawnSync } from 'node:child_process';
import { get as httpGet } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repo = fileURLToPath(new URL('../../', import.meta.url));
export const kubeconfig = process.env['NH_KUBECONFIG'] ?? '/var/lib/nh-cluster/kubeconfig';
export const kubectlBin = '/var/lib/nh-cluster/bin/kubectl';
/** This checkout's nh, started as a user starts it: bin/nh, the command npm installs. */
export const nhBin = join(repo, 'bin/nh');
/**
 * Another build's bin/nh.js (NH_BENCH_BEFORE=/path/to/bin/nh.js), timed beside this one in the same loop where
 * a benchmark supports it: a before/after under the same load.
 */
export const beforeBin = process.env['NH_BENCH_BEFORE'] || undefined;

/**
 * How a build's nh is started: a bin/nh.js by Node, anything else (bin/nh) as itself. Node options (a measuring
 * preload) go in NODE_OPTIONS either way, so both kinds start alike.
 */
export function nhCommand(bin: string, nodeOptions: readonly string[], args: readonly string[], env: NodeJS.ProcessEnv): { command: string; args: string[]; env: NodeJS.ProcessEnv } {
  const withOptions = nodeOptions.length ? { ...env, NODE_OPTIONS: [env['NODE_OPTIONS'], ...nodeOptions].filter(Boolean).join(' ') } : env;
  return bin.endsWith('.js') ? { command: process.execPath, args: [bin, ...args], env: withOptions } : { command: bin, args: [...args], env: withOptions };
}

/** Runs kubectl against the local cluster; its stdout, or an error with its stderr. */
export function kubectl(args: readonly string[], input?: string): string {
  const r = spawnSync(kubectlBin, ['--kubeconfig', kubeconfig, ...args], { encoding: 'utf8', input, timeout: 300_000 });
  if (r.status !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** Runs `nh …` (this checkout's, or `bin`) and returns its wall time; throws when it fails. */
export function timedNh(namespace: string, cwd: string, args: readonly string[], bin = nhBin): number {
  const nh = nhCommand(bin, [], [...args, '--kubeconfig', kubeconfig, '-n', namespace], { ...process.env, NO_COLOR: '1', NH_IDENTITY: 'bench@nh' });
  const started = performance.now();
  const r = spawnSync(nh.command, nh.args, { cwd, encoding: 'utf8', env: nh.env, timeout: 600_000 });
  const elapsed = performance.now() - started;
  if (r.status !== 0) throw new Error(`nh ${args.join(' ')} exited ${r.status}:\n${r.stdout}${r.stderr}`);
  return elapsed;
}

/** One request on a new connection (so through a new tunnel), from the request to the whole body. */
export function freshRequestMs(port: number): Promise<number> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    httpGet({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(performance.now() - started));
    }).on('error', reject);
  });
}

/** The body served on 127.0.0.1:port, or undefined when nothing answered within 3 s. */
export async function get(port: number, path = '/'): Promise<string | undefined> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(3_000) });
    return await res.text();
  } catch {
    return undefined;
  }
}

/** Polls `probe` every `everyMs` until it gives a value; throws after timeoutMs. */
export async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number, everyMs = 20): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
