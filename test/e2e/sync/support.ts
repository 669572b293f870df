// Helpers for the file-sync e2e tests: a plain Deployment standing in for a dev workload (dev image,
// emptyDir at the workDir, a PID 1 that blocks), agents into its current pod, and tree comparisons by hash.
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { ExecEndpoint } from '../../../src/kube/exec.js';
import { DEV_MODE_LABEL, DEV_MODE_VALUE } from '../../../src/model/dev-mode.js';
import { ContainerAgent } from '../../../src/sync/agent.js';
import { COMPARED_MODE_BITS } from '../../../src/sync/tree.js';
import { appsApi, coreApi, makeKubeConfig, podIsReady, waitFor, waitForDeployment } from '../support/cluster.js';

export const WORKDIR = '/home/nocalhost-dev';
const kc = makeKubeConfig();
export const endpoint: ExecEndpoint = { server: kc.getCurrentCluster()!.server, applyToHTTPSOptions: (options) => kc.applyToHTTPSOptions(options) };

/** A Deployment that looks like a service in dev mode (its pods carry the dev-mode label). */
export async function createDevDeployment(namespace: string, name: string, image = 'localhost/nh-dev-min:1'): Promise<void> {
  const labels = { app: name, [DEV_MODE_LABEL]: DEV_MODE_VALUE };
  await appsApi(kc).createNamespacedDeployment({
    namespace,
    body: {
      metadata: { name },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: name } },
        template: {
          metadata: { labels },
          spec: {
            terminationGracePeriodSeconds: 1,
            containers: [
              {
                name: 'dev',
                image,
                imagePullPolicy: 'Never',
                command: ['sh', '-c', 'trap "exit 0" TERM; while :; do sleep 1; done'],
                volumeMounts: [{ name: 'workdir', mountPath: WORKDIR }],
              },
            ],
            volumes: [{ name: 'workdir', emptyDir: {} }],
          },
        },
      },
    },
  });
  await waitForDeployment(namespace, name, 120_000, kc);
}

/** The newest ready pod of the Deployment (a replaced one may still be terminating). */
export async function readyPod(namespace: string, app: string): Promise<string | undefined> {
  const pods = await coreApi(kc).listNamespacedPod({ namespace, labelSelector: `app=${app}` });
  return pods.items
    .filter(podIsReady)
    .sort((a, b) => String(b.metadata?.creationTimestamp).localeCompare(String(a.metadata?.creationTimestamp)))[0]?.metadata?.name;
}

export async function deletePod(namespace: string, name: string): Promise<void> {
  await coreApi(kc).deleteNamespacedPod({ namespace, name, gracePeriodSeconds: 0 });
}

/** Connects an agent to the Deployment's current pod, as the session's `connect` does. */
export function connectTo(namespace: string, app: string, workDir: string) {
  return async (signal?: AbortSignal): Promise<ContainerAgent> => {
    const pod = await readyPod(namespace, app);
    if (!pod) throw new Error(`no ready pod of ${app}`);
    return ContainerAgent.start(endpoint, { namespace, pod, container: 'dev' }, workDir, signal);
  };
}

/** path → `kind mode hash|target`: what the tests compare. */
export type Fingerprint = Map<string, string>;

/** The local tree, minus what `excluded` says is not synced. */
export function localFingerprint(root: string, excluded: (path: string) => boolean = () => false): Fingerprint {
  const out: Fingerprint = new Map();
  const walk = (dir: string) => {
    for (const name of readdirSync(join(root, dir))) {
      const path = dir ? `${dir}/${name}` : name;
      if (excluded(path)) continue;
      const stats = lstatSync(join(root, path));
      const mode = (stats.mode & COMPARED_MODE_BITS).toString(8);
      if (stats.isSymbolicLink()) out.set(path, `link ${readlinkSync(join(root, path))}`);
      else if (stats.isDirectory()) {
        out.set(path, `dir ${mode}`);
        walk(path);
      } else out.set(path, `file ${mode} ${createHash('md5').update(readFileSync(join(root, path))).digest('hex')}`);
    }
  };
  walk('');
  return out;
}

/** The container's tree under workDir, minus what `excluded` says. */
export async function containerFingerprint(agent: ContainerAgent, excluded: (path: string) => boolean = () => false): Promise<Fingerprint> {
  const entries = (await agent.list()).filter((e) => !excluded(e.path));
  const hashes = await agent.hash(entries.filter((e) => e.kind === 'file').map((e) => e.path));
  const out: Fingerprint = new Map();
  for (const e of entries) {
    const mode = (e.mode & COMPARED_MODE_BITS).toString(8);
    out.set(e.path, e.kind === 'link' ? `link ${e.target}` : e.kind === 'dir' ? `dir ${mode}` : `${e.kind} ${mode} ${hashes.get(e.path)}`);
  }
  return out;
}

export function sorted(fingerprint: Fingerprint): [string, string][] {
  return [...fingerprint].sort(([a], [b]) => (a < b ? -1 : 1));
}

/** Waits until the container's tree equals the local one (both minus `excluded`); returns the last pair. */
export async function waitForSameTree(
  root: string,
  connect: () => Promise<ContainerAgent>,
  excluded: (path: string) => boolean = () => false,
  timeoutMs = 60_000,
): Promise<void> {
  let last = '';
  await waitFor(
    'the container tree to equal the local tree',
    async () => {
      const agent = await connect();
      try {
        const want = JSON.stringify(sorted(localFingerprint(root, excluded)));
        const got = JSON.stringify(sorted(await containerFingerprint(agent, excluded)));
        last = `want ${want}\n got ${got}`;
        return want === got;
      } finally {
        await agent.close();
      }
    },
    timeoutMs,
    200,
  ).catch((error: Error) => {
    throw new Error(`${error.message}\n${last.slice(0, 4000)}`);
  });
}
