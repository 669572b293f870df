// Services removed from the config after `nh up`: a whole-app `nh down` and `nh space reset` find their dev
// state on the cluster by its marks, not by the config, and restore them exactly: a suspended CronJob, a bare
// Pod replaced by its copy, a Job's dev copy, a DaemonSet held off its node.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { kubectl, listPods, useNamespace, waitFor } from '../support/cluster.js';
import { comparable, getObject, idleDeployment, projectWith, runNh } from '../support/nh.js';
import { agentDaemonSet, CRONJOB, DEV_IMAGE, JOB, POD } from './kinds-support.js';

const ns = useNamespace('kinds2-removed');

const WORKLOADS = [CRONJOB, POD, JOB, agentDaemonSet()].join('---\n');

const KINDS: Record<string, string> = { nightly: 'cronjob', scratch: 'pod', report: 'job', agent: 'daemonset' };

/** The app's config: `keeper` (a Deployment) and the given services of KINDS. */
function writeConfig(dir: string, services: readonly string[]): void {
  const lines = ['configProperties: {version: v2}', 'application:', '  name: removed', '  services:'];
  for (const [name, type] of [['keeper', 'deployment'], ...services.map((s) => [s, KINDS[s]!])] as const) {
    lines.push(`    - name: ${name}`, `      serviceType: ${type}`, '      containers:', `        - dev: {image: "${DEV_IMAGE}", imagePullPolicy: Never, workDir: /work}`);
  }
  writeFileSync(join(dir, '.nocalhost', 'config.yaml'), lines.join('\n') + '\n');
}

/** What must come back: the objects as they were, and the bare Pod and the DaemonSet's pod running again. */
function snapshot(namespace: string): unknown {
  const pod = getObject(namespace, 'pod', 'scratch') as { spec: unknown; metadata: { labels: unknown } };
  return {
    cronjob: comparable(getObject(namespace, 'cronjob', 'nightly')),
    job: comparable(getObject(namespace, 'job', 'report')),
    daemonset: comparable(getObject(namespace, 'daemonset', 'agent')),
    pod: { labels: pod.metadata.labels, image: (pod.spec as { containers: { image: string }[] }).containers[0]!.image },
  };
}

async function deploy(namespace: string): Promise<void> {
  kubectl(['-n', namespace, 'apply', '-f', '-'], { input: `${WORKLOADS}---\n${idleDeployment('keeper')}` });
  kubectl(['-n', namespace, 'wait', '--for=condition=Ready', 'pod', '-l', 'app in (scratch,agent,keeper)', '--timeout=120s']);
}

async function upThenRemove(namespace: string, project: string): Promise<void> {
  const up = await runNh(namespace, ['up', '--detach', '--timeout', '3m'], { cwd: project });
  assert.equal(up.code, 0, up.stdout + up.stderr);
  assert.equal(kubectl(['-n', namespace, 'get', 'deployments', '-l', 'nh.dev/copy', '-o', 'name']).stdout.trim().split('\n').length, 4, 'a dev copy per source');
  assert.equal((getObject(namespace, 'cronjob', 'nightly') as { spec: { suspend?: boolean } }).spec.suspend, true);
  writeConfig(project, []);
}

async function assertRestored(namespace: string, before: unknown): Promise<void> {
  await waitFor('the bare Pod and the DaemonSet\'s pod back', async () => (await listPods(namespace, 'app in (scratch,agent)')).filter((p) => p.status?.phase === 'Running').length >= 2, 120_000);
  assert.deepEqual(snapshot(namespace), before, 'every source as it was');
  assert.equal(kubectl(['-n', namespace, 'get', 'deployments', '-l', 'nh.dev/copy', '-o', 'name']).stdout.trim(), '', 'no dev copy left');
}

test('whole-app down restores services removed from the config since up: CronJob, bare Pod, Job copy, DaemonSet', { timeout: 420_000 }, async () => {
  await deploy(ns());
  const before = snapshot(ns());
  const project = projectWith('');
  writeConfig(project, Object.keys(KINDS));
  await upThenRemove(ns(), project);
  const plan = await runNh(ns(), ['plan', '-o', 'json'], { cwd: project });
  const services = (JSON.parse(plan.stdout) as { services: { service: string; action: string; reason: string }[] }).services;
  assert.deepEqual(services.filter((s) => s.service !== 'keeper').map((s) => [s.service, s.action]).sort(), Object.keys(KINDS).sort().map((s) => [s, 'leave']), plan.stdout);
  const down = await runNh(ns(), ['down', '--timeout', '3m'], { cwd: project });
  assert.equal(down.code, 0, down.stdout + down.stderr);
  await assertRestored(ns(), before);
});

const space = `kinds2-reset-${Math.random().toString(36).slice(2, 7)}`;
const owner = `kinds2-${space.slice(-5)}`;
after(() => {
  kubectl(['delete', 'namespace', space, '--ignore-not-found', '--wait=false'], { allowFailure: true });
  kubectl(['-n', 'nh-members', 'delete', 'serviceaccount,role,rolebinding', '-l', `nh.dev/member=${owner}`, '--ignore-not-found'], { allowFailure: true });
});

test('space reset restores them too, from their marks alone', { timeout: 420_000 }, async () => {
  const create = await runNh('default', ['space', 'create', space, '--owner', owner, '--cpu', '8', '--memory', '8Gi']);
  assert.equal(create.code, 0, create.stdout + create.stderr);
  await deploy(space);
  const before = snapshot(space);
  const project = projectWith('');
  writeConfig(project, Object.keys(KINDS));
  await upThenRemove(space, project);
  const reset = await runNh('default', ['space', 'reset', space, '--timeout', '3m']);
  assert.equal(reset.code, 0, reset.stdout + reset.stderr);
  await assertRestored(space, before);
});
