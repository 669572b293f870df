// SIGKILL of `nh up --detach` (and `nh down`) at several points: a later `nh up --detach` converges (the
// plan is then all noop) and `nh down` restores every object exactly. nh talks to the cluster through an
// ApiGate that holds back the requests leading past each point, so the kill lands at that point on any
// machine; a kill that lands after nh has exited fails the test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { AutoscalingV2Api } from '@kubernetes/client-node';
import type { GateRequest, GateRule } from '../support/api-gate.js';
import { killAt as killNhAt, type KillPoint } from '../support/kill-point.js';
import { appsApi, booking, kubectl, listPods, makeKubeConfig, podIsReady, useNamespace, waitFor, waitForDeployment } from '../support/cluster.js';
import { comparable, getObject, runNh } from '../support/nh.js';
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

const isWrite = (r: GateRequest) => r.method !== 'GET';
const isDeploymentPatch = (r: GateRequest) => r.method === 'PATCH' && r.path.includes('/deployments/');
const patchOf = (name: string) => (r: GateRequest) => isDeploymentPatch(r) && r.path.endsWith(`/deployments/${name}`);
const isHpaPatch = (r: GateRequest) => r.method === 'PATCH' && r.path.includes('/horizontalpodautoscalers/');

/** The dev pods that are Ready, as the test reads them itself (nh may not have seen them yet). */
async function readyDevPods(): Promise<number> {
  return (await listPods(ns(), 'nh.dev/mode=dev')).filter(podIsReady).length;
}

const killAt = (args: readonly string[], point: KillPoint) => killNhAt(ns(), cwd, args, point);

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

const holdWrites: GateRule = (r) => (isWrite(r) ? 'hold' : 'forward');
const holdDeploymentPatches: GateRule = (r) => (isDeploymentPatch(r) ? 'hold' : 'forward');
const holdAllButTheFirstDeploymentPatch: GateRule = (r, earlier) => (isDeploymentPatch(r) && earlier.some(isDeploymentPatch) ? 'hold' : 'forward');
/** Without its watch events nh cannot see a dev pod become Ready, so it keeps waiting. */
const holdWatches: GateRule = (r) => (r.watch ? 'hold' : 'forward');
const allPatched = (requests: readonly GateRequest[]) =>
  booking.services.every((name) => requests.some((r) => patchOf(name)(r) && r.state === 'answered')) && requests.some((r) => r.watch && r.path.endsWith('/pods'));

const KILL_POINTS: readonly KillPoint[] = [
  {
    label: 'after reading the cluster and planning, with its first write held back',
    rule: holdWrites,
    reached: (requests) => requests.some(isWrite),
    before: async () => {
      assert.equal(await hpaHeld(), false, 'no write has landed: the HPA is not held');
      assert.equal(await anyDeployment((a) => 'nh.dev/state' in a), false, 'no write has landed: no workload carries the dev state');
    },
  },
  {
    label: 'with the HPA held, before its workload is patched',
    rule: holdDeploymentPatches,
    reached: (requests) => requests.some((r) => isHpaPatch(r) && r.state === 'answered') && requests.some(patchOf('booking-api')),
    before: async () => {
      assert.equal(await hpaHeld(), true, 'the HPA is held');
      assert.equal(await anyDeployment((a) => 'nh.dev/state' in a), false, 'no workload carries the dev state');
    },
  },
  {
    label: 'with one workload carrying the dev state and the others\' patches held back',
    rule: holdAllButTheFirstDeploymentPatch,
    reached: (requests) => requests.some((r) => isDeploymentPatch(r) && r.state === 'answered'),
    before: async () => {
      const list = await apps.listNamespacedDeployment({ namespace: ns() });
      assert.equal(list.items.filter((d) => 'nh.dev/state' in (d.metadata?.annotations ?? {})).length, 1, 'exactly one workload carries the dev state');
    },
  },
  {
    label: 'while waiting for the dev pods, none of them Ready yet',
    rule: holdWatches,
    reached: allPatched,
    before: async () => assert.equal(await readyDevPods(), 0, 'no dev pod is Ready yet'),
  },
  {
    label: 'while waiting for the dev pods, all of them Ready but not yet seen by nh',
    rule: holdWatches,
    reached: allPatched,
    before: async () => void (await waitFor('all 3 dev pods Ready', async () => (await readyDevPods()) === booking.services.length, 120_000, 50)),
  },
];

for (const point of KILL_POINTS) {
  test(`SIGKILL of up --detach ${point.label}: up converges, down restores exactly`, { timeout: 300_000 }, async () => {
    await killAt(['up', '--detach', '--no-install'], point);
    await convergesAndRestores(point.label);
  });
}

test('SIGKILL of down mid-way: down again restores exactly', { timeout: 300_000 }, async () => {
  assert.equal((await runNh(ns(), ['up', '--detach', '--no-install'], { cwd })).code, 0);
  await killAt(['down'], {
    label: 'with one workload restored and the others\' patches held back',
    rule: holdAllButTheFirstDeploymentPatch,
    reached: (requests) => requests.some((r) => isDeploymentPatch(r) && r.state === 'answered'),
    before: async () => assert.equal(await anyDeployment((a) => !('nh.dev/state' in a)), true, 'a workload is restored'),
  });
  const down = await runNh(ns(), ['down'], { cwd });
  assert.equal(down.code, 0, down.stdout + down.stderr);
  const after = snapshot();
  for (const [key, original] of originals) assert.deepEqual(after.get(key), original, key);
});
