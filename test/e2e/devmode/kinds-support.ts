// What every workload kind's dev-mode e2e test does: the source deployed, `nh up --detach` puts its dev pod
// up with the dev image, `nh sync` brings the source in, `nh exec` reads it back, `nh down` restores the
// workload exactly; and the same after a SIGKILL of `nh up` with its dev copy about to be created.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { GateRequest } from '../support/api-gate.js';
import { EXTRA_NODE_TOLERATION, kubeconfigPath, kubectl, listPods, waitFor } from '../support/cluster.js';
import { killAt } from '../support/kill-point.js';
import { projectWith, runNh } from '../support/nh.js';

export const DEV_IMAGE = 'localhost/nh-dev-min:1';

/** An idle container that exits at once on SIGTERM (so deletions take no grace period). */
export const IDLE = `{name: app, image: "${DEV_IMAGE}", imagePullPolicy: Never, command: [sh, -c, "trap 'exit 0' TERM; while :; do sleep 1 & wait $!; done"]}`;

/** The sources every kind's tests develop: each runs IDLE. */
export const JOB = `apiVersion: batch/v1
kind: Job
metadata: {name: report}
spec:
  backoffLimit: 0
  template:
    metadata: {labels: {app: report}}
    spec:
      restartPolicy: Never
      terminationGracePeriodSeconds: 1
      containers: [${IDLE}]
`;

export const CRONJOB = `apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly}
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    spec:
      template:
        metadata: {labels: {app: nightly}}
        spec:
          restartPolicy: OnFailure
          containers: [${IDLE}]
`;

export const POD = `apiVersion: v1
kind: Pod
metadata: {name: scratch, labels: {app: scratch}, annotations: {team/owner: tools}}
spec:
  terminationGracePeriodSeconds: 1
  containers: [${IDLE}]
`;

/** A DaemonSet `agent` of idle pods; `tolerateExtraNodes` lets it run on the local cluster's tainted second node too. */
export function agentDaemonSet(options: { tolerateExtraNodes?: boolean } = {}): string {
  return `apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      terminationGracePeriodSeconds: 1${options.tolerateExtraNodes ? `\n      tolerations: [${EXTRA_NODE_TOLERATION}]` : ''}
      containers: [${IDLE}]
`;
}

export interface KindCase {
  readonly serviceType: string;
  readonly name: string;
  readonly namespace: () => string;
  /** What must be identical before `nh up` and after `nh down`. */
  readonly snapshot: () => unknown;
  /** Checks made while the service is in dev mode (its source held, left alone or replaced). */
  readonly inDevMode?: () => Promise<void>;
  /** Waits until the source is back as before after `nh down` (a DaemonSet's pod on its node, a Pod running). */
  readonly settled?: () => Promise<void>;
}

interface StatusJson {
  services: { service: string; mode: string; pod: string | null; ready: boolean; image: string | null }[];
}

/** A project whose one service develops the case's workload with the minimal dev image, and a file to sync. */
export function kindProject(c: Pick<KindCase, 'serviceType' | 'name'>): string {
  const project = projectWith([
    'configProperties: {version: v2}',
    'application:',
    '  services:',
    `    - name: ${c.name}`,
    `      serviceType: ${c.serviceType}`,
    '      containers:',
    `        - dev: {image: "${DEV_IMAGE}", imagePullPolicy: Never, workDir: /work}`,
    '',
  ].join('\n'));
  writeFileSync(join(project, 'hello.txt'), `hello from ${c.serviceType}\n`);
  return project;
}

/** up → dev pod with the dev image and the synced source → plan all noop → down → identical to before. */
export async function upSyncDown(c: KindCase, project: string): Promise<void> {
  const before = c.snapshot();
  const ns = c.namespace();
  const up = await runNh(ns, ['up', '--detach', '--timeout', '2m'], { cwd: project });
  assert.equal(up.code, 0, up.stdout + up.stderr);
  const status = JSON.parse((await runNh(ns, ['status', '-o', 'json'], { cwd: project })).stdout) as StatusJson;
  assert.deepEqual(status.services.map((s) => [s.mode, s.ready, s.image]), [['dev', true, DEV_IMAGE]], JSON.stringify(status));
  const sync = await runNh(ns, ['sync', c.name], { cwd: project });
  assert.equal(sync.code, 0, sync.stdout + sync.stderr);
  // The command after `--` ends the line, so the cluster flags go before it.
  const cat = kubectl(['-n', ns, 'exec', await devPod(ns), '--', 'cat', '/work/hello.txt']);
  assert.equal(cat.stdout, `hello from ${c.serviceType}\n`, 'the synced file is in the dev container\'s workDir');
  const exec = await runNh(ns, ['exec', c.name, '--kubeconfig', kubeconfigPath, '-n', ns, '--', 'sh', '-c', 'cat hello.txt; exit 0'], { cwd: project });
  assert.match(exec.stdout, new RegExp(`^hello from ${c.serviceType}\n`), `nh exec finds the dev pod\n${exec.stderr}`);
  await c.inDevMode?.();
  const plan = await runNh(ns, ['plan', '--detailed-exitcode'], { cwd: project });
  assert.equal(plan.code, 0, `a second plan is all noop\n${plan.stdout}${plan.stderr}`);
  await downRestores(c, project, before);
}

/** SIGKILL of `nh up --detach` with the dev copy's creation held back: up converges, down restores exactly. */
export async function crashThenRestore(c: KindCase, project: string): Promise<void> {
  const before = c.snapshot();
  const ns = c.namespace();
  const isCopyCreate = (r: GateRequest) => r.method === 'POST' && r.path.endsWith('/deployments');
  await killAt(ns, project, ['up', '--detach'], {
    label: 'with the dev copy about to be created',
    rule: (r) => (isCopyCreate(r) ? 'hold' : 'forward'),
    reached: (requests) => requests.some(isCopyCreate),
  });
  const up = await runNh(ns, ['up', '--detach', '--timeout', '2m'], { cwd: project });
  assert.equal(up.code, 0, `up after the kill\n${up.stdout}${up.stderr}`);
  const plan = await runNh(ns, ['plan', '--detailed-exitcode'], { cwd: project });
  assert.equal(plan.code, 0, `plan after up is all noop\n${plan.stdout}${plan.stderr}`);
  await downRestores(c, project, before);
}

async function downRestores(c: KindCase, project: string, before: unknown): Promise<void> {
  const ns = c.namespace();
  const down = await runNh(ns, ['down', '--timeout', '2m'], { cwd: project });
  assert.equal(down.code, 0, down.stdout + down.stderr);
  await c.settled?.();
  assert.deepEqual(c.snapshot(), before, `${c.serviceType} ${c.name} restored exactly`);
  const copies = kubectl(['-n', ns, 'get', 'deployments', '-l', 'nh.dev/copy', '-o', 'name']).stdout.trim();
  assert.equal(copies, '', 'no dev copy is left');
  await waitFor('no dev pod left', async () => (await listPods(ns, 'nh.dev/mode=dev')).length === 0, 60_000);
}

async function devPod(ns: string): Promise<string> {
  return waitFor('the ready dev pod', async () => {
    const running = (await listPods(ns, 'nh.dev/mode=dev')).filter((p) => p.status?.phase === 'Running');
    return running.length === 1 ? running[0]!.metadata?.name : undefined;
  }, 60_000);
}
