// The config's patches (containers[].dev.patches) on a real API server: a strategic merge that adds a sidecar
// and an env var to the dev container (merged by name, as only the server knows), a merge patch of labels and
// an existing annotation, a JSON patch; `nh plan` lists them; `nh down` gives back the Deployment exactly,
// also after a SIGKILL of `nh up` between nh's own write and the patches; a patch the server rejects is a
// typed error and leaves the Deployment as it was.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { kubectl, useNamespace, waitForDeployment } from '../support/cluster.js';
import { killAt } from '../support/kill-point.js';
import { comparable, getObject, projectWith, runNh } from '../support/nh.js';
import type { GateRequest } from '../support/api-gate.js';
import { DEV_IMAGE, IDLE } from './kinds-support.js';

const ns = useNamespace('kinds2-patches');

const DEPLOYMENT = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: orders
  labels: {app: orders}
  annotations: {team/owner: payments}
spec:
  replicas: 1
  selector: {matchLabels: {app: orders}}
  template:
    metadata: {labels: {app: orders}}
    spec:
      terminationGracePeriodSeconds: 1
      containers: [${IDLE}]
`;

const SIDECAR = `{"name":"sidecar","image":"${DEV_IMAGE}","imagePullPolicy":"Never","command":["sh","-c","trap 'exit 0' TERM; while :; do sleep 1 & wait $!; done"]}`;

function project(extraPatch = ''): string {
  return projectWith([
    'name: orders',
    'containers:',
    '  - name: app',
    '    dev:',
    `      image: "${DEV_IMAGE}"`,
    '      imagePullPolicy: Never',
    '      workDir: /work',
    '      patches:',
    '        - type: strategic',
    '          patch: |',
    `            {"spec":{"template":{"spec":{"containers":[{"name":"app","env":[{"name":"PATCHED","value":"yes"}]},${SIDECAR}]}}}}`,
    '        - type: merge',
    '          patch: |',
    '            metadata:',
    '              labels: {team: orders}',
    '              annotations: {team/owner: dev}',
    '        - type: json',
    `          patch: '[{"op":"add","path":"/spec/template/spec/hostAliases","value":[{"ip":"10.0.0.1","hostnames":["db.local"]}]}]'`,
    extraPatch,
    '',
  ].join('\n'));
}

interface PodSpec {
  containers: { name: string; image: string; env?: { name: string; value: string }[] }[];
  hostAliases?: unknown[];
}

const deployment = () => getObject(ns(), 'deployment', 'orders') as { metadata: { labels: Record<string, string>; annotations: Record<string, string> }; spec: { template: { spec: PodSpec } } };
const patchesOfOrders = (requests: readonly GateRequest[]) => requests.filter((r) => r.method === 'PATCH' && r.path.endsWith('/deployments/orders'));

test('patches: applied after nh\'s change by the API server (a sidecar and env merged by name), shown in the plan, undone exactly by down', { timeout: 300_000 }, async () => {
  kubectl(['-n', ns(), 'apply', '-f', '-'], { input: DEPLOYMENT });
  await waitForDeployment(ns(), 'orders');
  const before = comparable(getObject(ns(), 'deployment', 'orders'));
  const cwd = project();

  const plan = await runNh(ns(), ['plan'], { cwd });
  assert.match(plan.stdout, /patch 1 \(strategic, .*config\.yaml:10:18\): template\.spec\.containers/, plan.stdout);
  assert.match(plan.stdout, /patch 2 \(merge, .*\): metadata\.labels\[team\], metadata\.annotations\[team\/owner\]/);
  assert.match(plan.stdout, /patch 3 \(json, .*\): template\.spec\.hostAliases/);

  const up = await runNh(ns(), ['up', '--detach', '--timeout', '2m'], { cwd });
  assert.equal(up.code, 0, up.stdout + up.stderr);
  const dev = deployment();
  const spec = dev.spec.template.spec;
  assert.deepEqual(spec.containers.map((c) => c.name), ['app', 'sidecar'], 'the strategic merge added the sidecar beside the dev container');
  assert.equal(spec.containers[0]!.image, DEV_IMAGE);
  assert.deepEqual(spec.containers[0]!.env?.find((e) => e.name === 'PATCHED'), { name: 'PATCHED', value: 'yes' });
  assert.equal(dev.metadata.labels['team'], 'orders');
  assert.equal(dev.metadata.annotations['team/owner'], 'dev');
  assert.equal(spec.hostAliases?.length, 1);
  // nh's write and the patches are two rollouts: the first one's pod may still be terminating.
  const pods = (JSON.parse(kubectl(['-n', ns(), 'get', 'pods', '-l', 'nh.dev/mode=dev', '-o', 'json']).stdout) as { items: { metadata: { deletionTimestamp?: string }; spec: PodSpec }[] }).items;
  const running = pods.filter((p) => !p.metadata.deletionTimestamp);
  assert.deepEqual(running.map((p) => p.spec.containers.map((c) => c.name)), [['app', 'sidecar']], 'the dev pod runs both');
  const again = await runNh(ns(), ['plan', '--detailed-exitcode'], { cwd });
  assert.equal(again.code, 0, `a second plan is all noop\n${again.stdout}${again.stderr}`);

  const down = await runNh(ns(), ['down', '--timeout', '2m'], { cwd });
  assert.equal(down.code, 0, down.stdout + down.stderr);
  assert.deepEqual(comparable(getObject(ns(), 'deployment', 'orders')), before, 'labels, annotations and the whole spec as before');
});

test('patches: SIGKILL of up between nh\'s write and the patches; down restores exactly, and up finishes what was left', { timeout: 300_000 }, async () => {
  const before = comparable(getObject(ns(), 'deployment', 'orders'));
  const cwd = project();
  const killBetween = (n: number) => ({
    label: `with ${n - 1} of the Deployment's patches sent`,
    rule: (r: GateRequest, earlier: readonly GateRequest[]) => (r.method === 'PATCH' && r.path.endsWith('/deployments/orders') && patchesOfOrders(earlier).length >= n - 1 ? 'hold' : 'forward'),
    reached: (requests: readonly GateRequest[]) => patchesOfOrders(requests).length >= n,
  } as const);
  // nh's write went through, the first patch is held: down puts back what nh changed and nothing else is left.
  await killAt(ns(), cwd, ['up', '--detach'], killBetween(2));
  const down = await runNh(ns(), ['down', '--timeout', '2m'], { cwd });
  assert.equal(down.code, 0, down.stdout + down.stderr);
  assert.deepEqual(comparable(getObject(ns(), 'deployment', 'orders')), before);
  // Killed after the first two patches: up sends them again from the saved originals, once each.
  await killAt(ns(), cwd, ['up', '--detach'], killBetween(4));
  const up = await runNh(ns(), ['up', '--detach', '--timeout', '2m'], { cwd });
  assert.equal(up.code, 0, up.stdout + up.stderr);
  assert.deepEqual(deployment().spec.template.spec.containers.map((c) => c.name), ['app', 'sidecar']);
  assert.equal(deployment().spec.template.spec.containers[0]!.env?.filter((e) => e.name === 'PATCHED').length, 1);
  assert.equal((await runNh(ns(), ['plan', '--detailed-exitcode'], { cwd })).code, 0);
  assert.equal((await runNh(ns(), ['down', '--timeout', '2m'], { cwd })).code, 0);
  assert.deepEqual(comparable(getObject(ns(), 'deployment', 'orders')), before);
});

test('patches: one the API server rejects is a typed error with a hint, and the Deployment is left as it was', { timeout: 300_000 }, async () => {
  const before = comparable(getObject(ns(), 'deployment', 'orders'));
  const cwd = project(['        - type: merge', '          patch: \'{"spec":{"template":{"spec":{"restartPolicy":"Never"}}}}\''].join('\n'));
  const up = await runNh(ns(), ['up', '--detach', '--timeout', '2m'], { cwd });
  assert.notEqual(up.code, 0, up.stdout);
  assert.match(up.stderr + up.stdout, /patch 4 \(merge, .*config\.yaml:\d+:\d+\) was rejected by the API server: .*restartPolicy/);
  assert.match(up.stderr + up.stdout, /hint: fix the patch at .*config\.yaml/);
  assert.doesNotMatch(up.stderr, /\bat .*\.js:\d+/, 'no stack trace');
  assert.deepEqual(comparable(getObject(ns(), 'deployment', 'orders')), before, 'nothing left changed');
});
