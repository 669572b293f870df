// SIGKILL of `nh up --detach` (and `nh down`) at several points: a later `nh up --detach` converges (the
// plan is then all noop) and `nh down` restores every object exactly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { AutoscalingV2Api } from '@kubernetes/client-node';
import { appsApi, booking, kubectl, makeKubeConfig, useNamespace, waitForDeployment } from '../support/cluster.js';
import { comparable, getObject, runNh, spawnNh } from '../support/nh.js';
import { repoRoot } from '../../support/paths.js';

const ns = useNamespace('devmode-crash');
const cwd = join(repoRoot, 'examples/booking');
const kc = makeKubeConfig();
const apps = appsApi(kc);
const autoscaling = kc.makeApiClient(AutoscalingV2Api);
const originals = new Map<string, unknown>();

const HPA = {
  apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'booking-api' },
  spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'booking-api' }, minReplicas: 1, maxReplicas: 3 },
};

function snapshot(): Map<string, unknown> {
  const objects = new Map<string, unknown>(booking.services.map((name) => [name, comparable(getObject(ns(), 'deployment', name))]));
  objects.set('hpa', comparable(getObject(ns(), 'hpa', 'booking-api')));
  return objects;
}

async function anyDeployment(has: (annotations: Record<string, string>) => boolean): Promise<boolean> {
  const list = await apps.listNamespacedDeployment({ namespace: ns() });
  return list.items.some((d) => has(d.metadata?.annotations ?? {}));
}

async function hpaHeld(): Promise<boolean> {
  const hpa = await autoscaling.readNamespacedHorizontalPodAutoscaler({ name: 'booking-api', namespace: ns() });
  return hpa.metadata?.annotations?.['nh.dev/hpa-original'] !== undefined;
}

/** Kills the child with SIGKILL once `when` holds (polled tightly) or after a delay. */
async function killWhen(child: ChildProcess, when: number | (() => Promise<boolean>)): Promise<void> {
  if (typeof when === 'number') {
    await new Promise((r) => setTimeout(r, when));
  } else {
    const deadline = Date.now() + 60_000;
    while (!(await when()) && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 5));
  }
  child.kill('SIGKILL');
  await new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r(undefined) : child.once('exit', r)));
}

async function convergesAndRestores(label: string): Promise<void> {
  const up = await runNh(ns(), ['up', '--detach', '--no-install', '--timeout', '2m'], { cwd });
  assert.equal(up.code, 0, `${label}: up after the kill\n${up.stdout}${up.stderr}`);
  const plan = await runNh(ns(), ['plan', '--no-install', '--detailed-exitcode'], { cwd });
  assert.equal(plan.code, 0, `${label}: plan after up is all noop\n${plan.stdout}`);
  const down = await runNh(ns(), ['down', '--timeout', '2m'], { cwd });
  assert.equal(down.code, 0, `${label}: down\n${down.stdout}${down.stderr}`);
  const after = snapshot();
  for (const [key, original] of originals) assert.deepEqual(after.get(key), original, `${label}: ${key} restored`);
}

test('the booking app with an HPA is deployed', async () => {
  kubectl(['-n', ns(), 'apply', '-f', booking.manifests]);
  kubectl(['-n', ns(), 'apply', '-f', '-'], { input: JSON.stringify(HPA) });
  for (const name of booking.services) await waitForDeployment(ns(), name);
  for (const [key, value] of snapshot()) originals.set(key, value);
});

const KILL_POINTS: readonly [string, number | (() => Promise<boolean>)][] = [
  ['while starting (before any write)', 250],
  ['as soon as the HPA is held', hpaHeld],
  ['as soon as a workload carries the dev state', () => anyDeployment((a) => 'nh.dev/state' in a)],
  ['while waiting for the dev pods (1.5 s)', 1500],
  ['while waiting for the dev pods (3 s)', 3000],
];

for (const [label, when] of KILL_POINTS) {
  test(`SIGKILL of up --detach ${label}: up converges, down restores exactly`, async () => {
    await killWhen(spawnNh(ns(), ['up', '--detach', '--no-install'], { cwd }), when);
    await convergesAndRestores(label);
  });
}

test('SIGKILL of down mid-way: down again restores exactly', async () => {
  assert.equal((await runNh(ns(), ['up', '--detach', '--no-install'], { cwd })).code, 0);
  await killWhen(spawnNh(ns(), ['down'], { cwd }), () => anyDeployment((a) => !('nh.dev/state' in a)));
  const down = await runNh(ns(), ['down'], { cwd });
  assert.equal(down.code, 0, down.stdout + down.stderr);
  const after = snapshot();
  for (const [key, original] of originals) assert.deepEqual(after.get(key), original, key);
});
