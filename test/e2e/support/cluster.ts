// Test support for e2e tests on the local nh cluster (scripts/cluster/): makes sure it is up, hands out
// the kubeconfig, @kubernetes/client-node clients, kubectl, and a namespace per test file or test.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { after, before } from 'node:test';
import type { TestContext } from 'node:test';
import { AppsV1Api, CoreV1Api, KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { repoRoot } from '../../support/paths.js';

/** Root of the cluster's state (scripts/cluster/lib.sh: NH_CLUSTER_ROOT). */
export const clusterRoot = process.env.NH_CLUSTER_ROOT ?? '/var/lib/nh-cluster';
/** Stable kubeconfig path written by scripts/cluster/up.sh (admin, system:masters). */
export const kubeconfigPath = process.env.NH_KUBECONFIG ?? join(clusterRoot, 'kubeconfig');
/** kubectl of the cluster's own version (in the binaries' dir, which up.sh links), built by ensureCluster when missing. */
export const kubectlPath = join(clusterRoot, 'bin', 'kubectl');
/** helm for nh's app installer, built by scripts/cluster/tools.sh (symlinked there, like `bin`). */
export const toolsBinDir = process.env.NH_TOOLS_BIN ?? join(clusterRoot, 'tools-bin');

/**
 * PATH for the processes nh spawns (helm, kubectl for `kubectl kustomize`): the cluster's tools and binaries,
 * of the cluster's versions, come before whatever is on PATH.
 */
export function clusterToolsPath(path: string = process.env.PATH ?? ''): string {
  return [toolsBinDir, join(clusterRoot, 'bin'), ...(path ? [path] : [])].join(delimiter);
}

/**
 * The NoSchedule taint of the local cluster's extra nodes (scripts/cluster/lib.sh: NH_EXTRA_NODE_TAINT): only pods
 * that tolerate it land on node 2, so the tests running beside the multi-node ones keep their pods on node 1.
 */
export const EXTRA_NODE_TOLERATION = '{key: nh-cluster/extra-node, operator: Exists, effect: NoSchedule}';

/** Label put on every namespace made by these helpers, so leftovers can be found. */
export const E2E_LABEL = 'nh.dev/e2e';

const UP_TIMEOUT_MS = 60 * 60_000; // a cold machine builds Kubernetes first

export function makeKubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  return kc;
}

export function coreApi(kc: KubeConfig = makeKubeConfig()): CoreV1Api {
  return kc.makeApiClient(CoreV1Api);
}

export function appsApi(kc: KubeConfig = makeKubeConfig()): AppsV1Api {
  return kc.makeApiClient(AppsV1Api);
}

let podReader: CoreV1Api | undefined;

/**
 * The pods of `namespace` that match `labelSelector`, read in this process: for loops that poll, where a kubectl
 * per try costs ≈ 160 ms of CPU (the e2e run's 625 kubectl processes took 98 CPU-s on 2026-12-03).
 */
export async function listPods(namespace: string, labelSelector: string): Promise<V1Pod[]> {
  podReader ??= coreApi();
  return (await podReader.listNamespacedPod({ namespace, labelSelector })).items;
}

/** Ready and not being deleted. */
export function podIsReady(pod: V1Pod): boolean {
  return !pod.metadata?.deletionTimestamp && Boolean(pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
}

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs kubectl against the test cluster (synchronously). Throws on a non-zero exit unless allowFailure. */
export function kubectl(args: readonly string[], opts: { input?: string; allowFailure?: boolean; timeoutMs?: number } = {}): RunResult {
  const r = spawnSync(kubectlPath, ['--kubeconfig', kubeconfigPath, ...args], {
    input: opts.input,
    encoding: 'utf8',
    timeout: opts.timeoutMs ?? 120_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  const result = { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: (r.stderr ?? '') + (r.error ? String(r.error) : '') };
  if (result.code !== 0 && !opts.allowFailure) {
    throw new Error(`kubectl ${args.join(' ')} exited ${result.code}: ${result.stderr.trim()}`);
  }
  return result;
}

function apiserverReady(): boolean {
  if (!existsSync(kubeconfigPath)) return false;
  return kubectl(['get', '--raw', '/readyz'], { allowFailure: true, timeoutMs: 10_000 }).code === 0;
}

function nodeReady(): boolean {
  const r = kubectl(['get', 'nodes', '-o', 'jsonpath={.items[*].status.conditions[?(@.type=="Ready")].status}'], {
    allowFailure: true,
    timeoutMs: 10_000,
  });
  return r.code === 0 && r.stdout.split(/\s+/).includes('True');
}

/** Runs a script of scripts/cluster/ with its output on this process's stderr. */
export async function runClusterScript(script: 'up.sh' | 'down.sh' | 'status.sh' | 'node.sh' | 'tools.sh' | 'build.sh', args: readonly string[] = []): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [join(repoRoot, 'scripts/cluster', script), ...args], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGTERM'), UP_TIMEOUT_MS);
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      process.stderr.write(d);
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      process.stderr.write(d);
    });
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

let ensured: Promise<void> | undefined;

/** Runs the script of scripts/cluster/ that builds the binary at path, when it is not there yet. */
async function buildWhenMissing(path: string, script: 'build.sh' | 'tools.sh', args: readonly string[]): Promise<void> {
  if (existsSync(path)) return;
  const r = await runClusterScript(script, args);
  if (r.code !== 0) throw new Error(`scripts/cluster/${[script, ...args].join(' ')} failed (exit ${r.code}): ${path} could not be built`);
}

/**
 * Makes sure the local cluster is up: if the apiserver does not answer, runs scripts/cluster/up.sh once
 * (per process; up.sh itself is idempotent and locked). Resolves when the node is Ready. up.sh builds neither
 * kubectl, helm nor crictl (the demo needs none of them), so the first test run after a fresh set-up builds them
 * here: kubectl first (the checks below use it; `build.sh kubectl` puts it where up.sh links `bin`), helm with
 * tools.sh, crictl (down.sh and node.sh tear pods down with it) with `build.sh crictl`, outside the time limits
 * of the tests.
 */
export function ensureCluster(): Promise<void> {
  ensured ??= (async () => {
    await buildWhenMissing(kubectlPath, 'build.sh', ['kubectl']);
    if (!(apiserverReady() && nodeReady())) {
      const r = await runClusterScript('up.sh');
      if (r.code !== 0) throw new Error(`scripts/cluster/up.sh failed (exit ${r.code}); logs: ${clusterRoot}/logs`);
      if (!apiserverReady()) throw new Error('cluster still not reachable after up.sh');
    }
    await buildWhenMissing(join(toolsBinDir, 'helm'), 'tools.sh', []);
    await buildWhenMissing(join(clusterRoot, 'bin', 'crictl'), 'build.sh', ['crictl']);
  })();
  ensured.catch(() => {
    ensured = undefined; // let a later caller retry
  });
  return ensured;
}

/** Polls fn until it returns a value other than undefined/false, or throws after timeoutMs. */
export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 60_000, intervalMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      const suffix = lastError instanceof Error ? `: ${lastError.message}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${suffix}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

function uniqueName(prefix: string): string {
  const clean = prefix.toLowerCase().replace(/[^a-z0-9-]/g, '-').replace(/^-+|-+$/g, '').slice(0, 40) || 'test';
  return `e2e-${clean}-${randomBytes(3).toString('hex')}`;
}

/** Creates a uniquely named namespace (labelled nh.dev/e2e=true) and waits until pods can be created in it. */
export async function createNamespace(prefix: string, kc: KubeConfig = makeKubeConfig()): Promise<string> {
  await ensureCluster();
  const core = coreApi(kc);
  const name = uniqueName(prefix);
  await core.createNamespace({ body: { metadata: { name, labels: { [E2E_LABEL]: 'true' } } } });
  // The ServiceAccount admission plugin rejects pods until the controller-manager made 'default'.
  await waitFor(`serviceaccount default in ${name}`, async () => {
    await core.readNamespacedServiceAccount({ name: 'default', namespace: name });
    return true;
  }, 30_000);
  return name;
}

/** Deletes a namespace (background: does not wait for its pods to terminate unless wait is set). */
export async function deleteNamespace(name: string, opts: { wait?: boolean; kc?: KubeConfig } = {}): Promise<void> {
  const core = coreApi(opts.kc ?? makeKubeConfig());
  try {
    await core.deleteNamespace({ name, gracePeriodSeconds: 0, propagationPolicy: 'Background' });
  } catch (err) {
    if ((err as { code?: number }).code === 404) return;
    throw err;
  }
  if (opts.wait) {
    await waitFor(`namespace ${name} to be deleted`, async () => {
      try {
        await core.readNamespace({ name });
        return false;
      } catch (err) {
        return (err as { code?: number }).code === 404;
      }
    }, 120_000, 500);
  }
}

/** A namespace for one test: created now, deleted when the test ends (t.after). */
export async function withNamespace(t: TestContext, prefix = t.name): Promise<string> {
  const name = await createNamespace(prefix);
  t.after(() => deleteNamespace(name));
  return name;
}

/**
 * A namespace for a whole test file: registers top-level before/after hooks. Call at module top level;
 * the returned function gives the namespace's name inside tests.
 */
export function useNamespace(prefix: string): () => string {
  let name: string | undefined;
  before(async () => {
    name = await createNamespace(prefix);
  });
  after(async () => {
    if (name && !process.env.NH_E2E_KEEP_NAMESPACES) await deleteNamespace(name);
  });
  return () => {
    if (!name) throw new Error('namespace not created yet (use it inside a test)');
    return name;
  };
}

export interface PortForwardHandle {
  readonly localPort: number;
  close(): void;
}

/**
 * `kubectl port-forward` as a child process on 127.0.0.1 with a random local port.
 * target: pod/NAME, deploy/NAME or svc/NAME.
 */
export async function kubectlPortForward(namespace: string, target: string, remotePort: number, timeoutMs = 30_000): Promise<PortForwardHandle> {
  const child = spawn(kubectlPath, ['--kubeconfig', kubeconfigPath, '-n', namespace, 'port-forward', '--address', '127.0.0.1', target, `:${remotePort}`], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`kubectl port-forward ${target}: not ready after ${timeoutMs} ms: ${out}`));
    }, timeoutMs);
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /Forwarding from 127\.0\.0\.1:(\d+)/.exec(out);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve({ localPort: Number(m[1]), close: () => child.kill() });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`kubectl port-forward ${target} exited ${code}: ${out}`));
    });
  });
}

/** GET http://127.0.0.1:port/path with a few retries (a fresh forward may need a moment). */
export async function httpGet(port: number, path = '/', retries = 10): Promise<{ status: number; body: string }> {
  let lastError: unknown;
  for (let i = 0; i < retries; i++) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(5_000) });
      return { status: res.status, body: await res.text() };
    } catch (err) {
      lastError = err;
      await new Promise((r) => setTimeout(r, 300));
    }
  }
  throw new Error(`GET 127.0.0.1:${port}${path} failed: ${String(lastError)}`);
}

/** Waits until a Deployment has all its replicas updated and available (like `kubectl rollout status`). */
export async function waitForDeployment(namespace: string, name: string, timeoutMs = 120_000, kc: KubeConfig = makeKubeConfig()): Promise<void> {
  const apps = appsApi(kc);
  await waitFor(`deployment ${namespace}/${name} to be available`, async () => {
    const d = await apps.readNamespacedDeployment({ name, namespace });
    const want = d.spec?.replicas ?? 1;
    const st = d.status;
    return (
      (st?.observedGeneration ?? 0) >= (d.metadata?.generation ?? 1) &&
      (st?.updatedReplicas ?? 0) === want &&
      (st?.availableReplicas ?? 0) === want &&
      (st?.replicas ?? 0) === want
    );
  }, timeoutMs, 250);
}

/** Names of the booking example's workloads and their images (examples/booking/k8s). */
export const booking = {
  manifests: join(repoRoot, 'examples/booking/k8s'),
  services: ['booking-web', 'booking-api', 'booking-inventory'] as const,
};
