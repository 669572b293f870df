// Running the built nh CLI against the test cluster, and comparing cluster objects while ignoring the
// fields the API server and controllers manage.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../../support/paths.js';
import { clusterToolsPath, EXTRA_NODE_TOLERATION, kubeconfigPath, kubectl, type RunResult } from './cluster.js';
import { tempDir } from '../../support/temp-dir.js';

/** bin/nh, as npm installs it: the sh launcher that starts Node on the CA store nh empties (src/kube/trust.ts). */
const nhBin = join(repoRoot, 'bin', 'nh');

export interface NhOptions {
  readonly cwd?: string;
  readonly identity?: string;
  readonly kubeconfig?: string;
  readonly env?: Readonly<Record<string, string>>;
}

/** Starts `nh <args> --kubeconfig … -n <namespace>` (no color, not a TTY; helm and kubectl of the cluster first on PATH). */
export function spawnNh(namespace: string, args: readonly string[], options: NhOptions = {}): ChildProcess {
  return spawn(nhBin, [...args, '--kubeconfig', options.kubeconfig ?? kubeconfigPath, '-n', namespace], {
    cwd: options.cwd ?? repoRoot,
    env: { ...process.env, PATH: clusterToolsPath(), NO_COLOR: '1', NH_IDENTITY: options.identity ?? 'e2e@test', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

export function runNh(namespace: string, args: readonly string[], options: NhOptions = {}): Promise<RunResult> {
  const child = spawnNh(namespace, args, options);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/**
 * A one-replica Deployment of the minimal dev image whose PID 1 idles and exits at once on SIGTERM: a workload for
 * nh to develop; `node` pins its pods to that node, `preferNode` prefers that one (both tolerate the taint of the
 * cluster's extra nodes).
 */
export function idleDeployment(name: string, options: { node?: string; preferNode?: string } = {}): string {
  const placement = [
    ...(options.node ? [`nodeSelector: {kubernetes.io/hostname: ${options.node}}`] : []),
    ...(options.preferNode ? [`affinity: {nodeAffinity: {preferredDuringSchedulingIgnoredDuringExecution: [{weight: 100, preference: {matchExpressions: [{key: kubernetes.io/hostname, operator: In, values: [${options.preferNode}]}]}}]}}`] : []),
  ];
  if (placement.length) placement.push(`tolerations: [${EXTRA_NODE_TOLERATION}]`);
  return `apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}}
spec:
  replicas: 1
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec:${placement.map((line) => `\n      ${line}`).join('')}
      terminationGracePeriodSeconds: 1
      containers:
      - name: app
        image: localhost/nh-dev-min:1
        imagePullPolicy: IfNotPresent
        command: [sh, -c, "trap 'exit 0' TERM; while :; do sleep 1 & wait $!; done"]
`;
}

/** Writes a config into a fresh temporary project (`<dir>/.nocalhost/config.yaml`) and returns the directory. */
export function projectWith(configYaml: string): string {
  const dir = tempDir('nh-e2e-');
  mkdirSync(join(dir, '.nocalhost'));
  writeFileSync(join(dir, '.nocalhost', 'config.yaml'), configYaml);
  return dir;
}

/** The object as JSON from the cluster. */
export function getObject(namespace: string, kind: string, name: string): Record<string, unknown> {
  return JSON.parse(kubectl(['-n', namespace, 'get', kind, name, '-o', 'json']).stdout) as Record<string, unknown>;
}

/**
 * What must be identical before dev mode and after `nh down`: the object minus what the API server and
 * controllers change on their own (resourceVersion, generation, managedFields, status, revision annotations).
 */
export function comparable(object: Record<string, unknown>): unknown {
  const copy = structuredClone(object) as { metadata: Record<string, unknown>; status?: unknown };
  for (const key of ['resourceVersion', 'generation', 'managedFields']) delete copy.metadata[key];
  const annotations = copy.metadata['annotations'] as Record<string, string> | undefined;
  if (annotations) {
    delete annotations['deployment.kubernetes.io/revision'];
    delete annotations['deprecated.daemonset.template.generation'];
    if (Object.keys(annotations).length === 0) delete copy.metadata['annotations'];
  }
  delete copy.status;
  return copy;
}

/** A kubeconfig (in a fresh temporary file) that acts as a ServiceAccount of the namespace, with a bound token. */
export function limitedKubeconfig(namespace: string, serviceAccount: string): string {
  const admin = JSON.parse(kubectl(['config', 'view', '--raw', '--minify', '-o', 'json']).stdout) as { clusters: { cluster: Record<string, string> }[] };
  const token = kubectl(['-n', namespace, 'create', 'token', serviceAccount]).stdout.trim();
  const cluster = admin.clusters[0]!.cluster;
  const path = join(projectWith(''), `${serviceAccount}.kubeconfig`);
  writeFileSync(path, JSON.stringify({
    apiVersion: 'v1', kind: 'Config', 'current-context': serviceAccount,
    clusters: [{ name: 'local', cluster: { server: cluster['server'], 'certificate-authority-data': cluster['certificate-authority-data'] } }],
    users: [{ name: serviceAccount, user: { token } }],
    contexts: [{ name: serviceAccount, context: { cluster: 'local', user: serviceAccount, namespace } }],
  }));
  return path;
}

/** A local port nobody listens on right now. */
export async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as { port: number }).port;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/** The body served on 127.0.0.1:port (a forward of nh's), or undefined when nothing answered within 3 s. */
export async function servedBody(port: number): Promise<string | undefined> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(3_000) });
    return await res.text();
  } catch {
    return undefined;
  }
}
