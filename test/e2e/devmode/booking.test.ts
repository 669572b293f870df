// The booking example through a whole dev-mode cycle on the real cluster: plan, up --detach, idempotent
// second up, status, down, and an exact restore.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { booking, kubectl, useNamespace, waitForDeployment } from '../support/cluster.js';
import { comparable, getObject, projectWith, runNh } from '../support/nh.js';
import { repoRoot } from '../../support/paths.js';

const ns = useNamespace('devmode-booking');
const cwd = join(repoRoot, 'examples/booking');
const originals = new Map<string, unknown>();

interface PlanJson {
  services: { service: string; action: string; reason: string; fields: string[] }[];
}
interface StatusJson {
  services: { service: string; mode: string; owner: string | null; pod: string | null; ready: boolean; image: string | null }[];
}

test('the booking app is deployed', async () => {
  kubectl(['-n', ns(), 'apply', '-f', booking.manifests]);
  for (const name of booking.services) await waitForDeployment(ns(), name);
  for (const name of booking.services) originals.set(name, comparable(getObject(ns(), 'deployment', name)));
});

test('nh plan shows every service entering dev mode, with the fields it changes', async () => {
  const r = await runNh(ns(), ['plan', '--no-install', '-o', 'json', '--detailed-exitcode'], { cwd });
  assert.equal(r.code, 2, r.stderr);
  const plan = JSON.parse(r.stdout) as PlanJson;
  assert.deepEqual(plan.services.map((s) => [s.service, s.action]), booking.services.map((s) => [s, 'enter']));
  assert.ok(plan.services[0]!.fields.includes('containers[web].image'));
});

test('nh up --detach puts every service in dev mode with its dev pod ready', async () => {
  const r = await runNh(ns(), ['up', '--detach', '--no-install', '--timeout', '2m'], { cwd });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /3 services: 3 changed\./);
  const status = JSON.parse((await runNh(ns(), ['status', '-o', 'json'], { cwd })).stdout) as StatusJson;
  for (const s of status.services) {
    assert.equal(s.mode, 'dev');
    assert.equal(s.owner, 'e2e@test');
    assert.equal(s.ready, true, `${s.service} ready`);
    assert.match(s.image ?? '', /nh-dev-(node|go)/);
  }
  const api = getObject(ns(), 'deployment', 'booking-api') as { spec: { replicas: number; strategy: unknown; template: { spec: { containers: { workingDir: string; readinessProbe?: unknown }[] } } } };
  assert.equal(api.spec.replicas, 1);
  assert.deepEqual(api.spec.strategy, { type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: 1 } });
  assert.equal(api.spec.template.spec.containers[0]!.workingDir, '/app');
  assert.equal(api.spec.template.spec.containers[0]!.readinessProbe, undefined);
});

test('a second nh up --detach plans all noop and writes nothing', async () => {
  const before = booking.services.map((name) => getObject(ns(), 'deployment', name) as { metadata: { generation: number; annotations: Record<string, string> } });
  const plan = JSON.parse((await runNh(ns(), ['plan', '--no-install', '-o', 'json'], { cwd })).stdout) as PlanJson;
  assert.deepEqual(plan.services.map((s) => s.action), ['noop', 'noop', 'noop']);
  assert.equal((await runNh(ns(), ['plan', '--no-install', '--detailed-exitcode'], { cwd })).code, 0);
  const r = await runNh(ns(), ['up', '--detach', '--no-install'], { cwd });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /3 services: 3 unchanged\./);
  const after = booking.services.map((name) => getObject(ns(), 'deployment', name) as { metadata: { generation: number; annotations: Record<string, string> } });
  assert.deepEqual(after.map((d) => d.metadata.generation), before.map((d) => d.metadata.generation));
  assert.deepEqual(after.map((d) => d.metadata.annotations['nh.dev/state']), before.map((d) => d.metadata.annotations['nh.dev/state']));
});

test('a changed config updates the service in place; services removed from the config would leave dev mode', async () => {
  const apiOnly = (appName?: string) => projectWith([
    'configProperties: {version: v2}',
    'application:',
    ...(appName ? [`  name: ${appName}`] : []),
    '  services:',
    '    - name: booking-api',
    '      containers:',
    '        - {name: api, dev: {image: "localhost/nh-dev-min:1", imagePullPolicy: Never, workDir: /app}}',
    '',
  ].join('\n'));
  // Another app in the namespace (named after its directory) leaves the booking app's services alone.
  const other = JSON.parse((await runNh(ns(), ['plan', '--no-install', '-o', 'json'], { cwd: apiOnly() })).stdout) as PlanJson;
  assert.deepEqual(other.services.map((s) => [s.service, s.action]), [['booking-api', 'update']]);
  // The booking app itself (examples/booking has no application.name: its directory names it).
  const changed = apiOnly('booking');
  const plan = JSON.parse((await runNh(ns(), ['plan', '--no-install', '-o', 'json'], { cwd: changed })).stdout) as PlanJson;
  assert.deepEqual(plan.services.map((s) => [s.service, s.action, s.reason]), [
    ['booking-api', 'update', 'the config changed since entering dev mode'],
    ['booking-inventory', 'leave', 'service `booking-inventory` is no longer in the config'],
    ['booking-web', 'leave', 'service `booking-web` is no longer in the config'],
  ]);
  const r = await runNh(ns(), ['up', '--detach', '--no-install', 'booking-api'], { cwd: changed });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /booking-api: updated, pod booking-api-\S+ ready/);
  const status = JSON.parse((await runNh(ns(), ['status', '-o', 'json'], { cwd })).stdout) as StatusJson;
  assert.equal(status.services.find((s) => s.service === 'booking-api')?.image, 'localhost/nh-dev-min:1');
});

test('nh down restores every Deployment exactly, and a second down has nothing to do', async () => {
  const r = await runNh(ns(), ['down'], { cwd });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  for (const name of booking.services) assert.deepEqual(comparable(getObject(ns(), 'deployment', name)), originals.get(name), name);
  const again = await runNh(ns(), ['down'], { cwd });
  assert.equal(again.code, 0);
  assert.match(again.stdout, /3 services: 3 unchanged\./);
  const status = JSON.parse((await runNh(ns(), ['status', '-o', 'json'], { cwd })).stdout) as StatusJson;
  assert.deepEqual(status.services.map((s) => s.mode), ['off', 'off', 'off']);
});
