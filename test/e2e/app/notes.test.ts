// The notes example installed end to end by nh (kustomizeLocal): plan first, a pre-install hook before any
// resource, the API applied only once its store is Ready, env injected at install, a post-install hook against
// the ready app, a second plan with nothing to do, an upgrade that prunes what the new render drops, and an
// uninstall that leaves nothing nh labelled.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { kubectl, useNamespace } from '../support/cluster.js';
import { runNh } from '../support/nh.js';
import { repoRoot } from '../../support/paths.js';
import { tempDir } from '../../support/temp-dir.js';

const ns = useNamespace('app-notes');
// A copy, so the upgrade below can change the source without touching the repo.
const cwd = tempDir('nh-notes-');
cpSync(join(repoRoot, 'examples/notes'), cwd, { recursive: true });

interface AppPlanJson {
  app: { action: string; reason: string; resources: { kind: string; name: string; action: string; reason: string; fields: string[]; waitsFor?: unknown }[]; hooks: { before: string[]; after: string[]; phases: string[] } };
  services: { service: string; action: string; reason: string }[];
}

function json<T>(kind: string, selector: string): T {
  return JSON.parse(kubectl(['-n', ns(), 'get', kind, '-l', selector, '-o', 'json']).stdout) as T;
}

test('nh plan on an empty namespace shows every resource to create, the hooks, the held API, and dev mode after install', async () => {
  const r = await runNh(ns(), ['plan', '-o', 'json', '--detailed-exitcode'], { cwd });
  assert.equal(r.code, 2, r.stdout + r.stderr);
  const plan = JSON.parse(r.stdout) as AppPlanJson;
  assert.equal(plan.app.action, 'install');
  assert.deepEqual(plan.app.resources.map((x) => [x.kind, x.action]).sort(), [['ConfigMap', 'create'], ['Deployment', 'create'], ['Deployment', 'create'], ['Service', 'create'], ['Service', 'create']]);
  assert.deepEqual(plan.app.resources.find((x) => x.name === 'notes-api' && x.kind === 'Deployment')?.waitsFor,
    { pods: ['app=notes-store'], jobs: [], tcp: ['notes-store:8080'], http: ['http://notes-store:8080/notes.json'] });
  assert.deepEqual([plan.app.hooks.before, plan.app.hooks.after], [['notes-migrate'], ['notes-smoke']]);
  assert.deepEqual(plan.services.map((s) => [s.service, s.action]), [['notes-api', 'enter']]);
  // Nothing was written: plan is read-only (the dry run persisted nothing).
  assert.equal(kubectl(['-n', ns(), 'get', 'deploy,cm,svc,job', '-o', 'name']).stdout.split('\n').filter((l) => l && !l.includes('kube-root-ca')).length, 0);
});

test('nh install runs the hook, holds the API until the store is Ready, injects env, runs the post-install check', async () => {
  const r = await runNh(ns(), ['install', '--timeout', '3m'], { cwd });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /app: installed \(revision 1\): 5 created, 0 updated, 0 pruned/);

  type Job = { metadata: { name: string; creationTimestamp: string }; status: { completionTime?: string } };
  const jobs = new Map(json<{ items: Job[] }>('jobs', 'nh.dev/hook').items.map((j) => [j.metadata.name, j]));
  const migrate = jobs.get('notes-migrate')!;
  const smoke = jobs.get('notes-smoke')!;
  assert.ok(migrate.status.completionTime && smoke.status.completionTime, 'both hooks completed');

  type Deploy = { metadata: { name: string; creationTimestamp: string } };
  const deploys = new Map(json<{ items: Deploy[] }>('deploy', 'nh.dev/app=notes').items.map((d) => [d.metadata.name, d]));
  const storeCreated = Date.parse(deploys.get('notes-store')!.metadata.creationTimestamp);
  const apiCreated = Date.parse(deploys.get('notes-api')!.metadata.creationTimestamp);
  // The pre-install hook completed before any resource existed (timestamps have second resolution).
  assert.ok(Date.parse(migrate.status.completionTime) <= storeCreated, 'migrate completed before the store was created');

  type Pod = { status: { conditions?: { type: string; status: string; lastTransitionTime: string }[] } };
  const storePod = json<{ items: Pod[] }>('pods', 'app=notes-store').items[0]!;
  const storeReady = Date.parse(storePod.status.conditions!.find((c) => c.type === 'Ready' && c.status === 'True')!.lastTransitionTime);
  assert.ok(apiCreated >= storeReady, `notes-api was created (${apiCreated}) only once the store pod was Ready (${storeReady})`);
  assert.ok(Date.parse(smoke.metadata.creationTimestamp) >= apiCreated, 'the post-install hook ran after the API');

  const env = JSON.parse(kubectl(['-n', ns(), 'get', 'deploy', 'notes-api', '-o', 'jsonpath={.spec.template.spec.containers[0].env}']).stdout) as { name: string; value: string }[];
  assert.deepEqual(env, [{ name: 'NOTES_ENV', value: 'dev' }, { name: 'LOG_LEVEL', value: 'debug' }]);
  const storeEnv = kubectl(['-n', ns(), 'get', 'deploy', 'notes-store', '-o', 'jsonpath={.spec.template.spec.containers[0].env}']).stdout;
  assert.match(storeEnv, /NOTES_ENV/);
  const smokeLog = kubectl(['-n', ns(), 'logs', 'job/notes-smoke']).stdout;
  assert.match(smokeLog, /"service":"notes-api","env":"dev","notes":\["buy milk","ship nh"\]/);

  const configMap = JSON.parse(kubectl(['-n', ns(), 'get', 'cm', 'nh-app-notes', '-o', 'json']).stdout) as { data: Record<string, string> };
  const record = JSON.parse(configMap.data['record.json']!) as { status: string; revision: number; inventory: unknown[]; installedBy: string };
  assert.deepEqual([record.status, record.revision, record.inventory.length, record.installedBy], ['installed', 1, 5, 'e2e@test']);

  const status = JSON.parse((await runNh(ns(), ['status', '-o', 'json'], { cwd })).stdout) as { app: { status: string; revision: number; ready: number; total: number }; services: { mode: string }[] };
  assert.deepEqual([status.app.status, status.app.revision, status.app.ready, status.app.total], ['installed', 1, 5, 5]);
  assert.deepEqual(status.services.map((s) => s.mode), ['off']);
});

test('a second plan has nothing to do; nh install refuses to install twice', async () => {
  const r = await runNh(ns(), ['plan', '--no-install', '--detailed-exitcode'], { cwd });
  assert.equal(r.code, 2, 'dev mode is still to enter');
  const plan = JSON.parse((await runNh(ns(), ['plan', '-o', 'json'], { cwd })).stdout) as AppPlanJson;
  assert.equal(plan.app.action, 'noop', plan.app.reason);
  assert.ok(plan.app.resources.every((x) => x.action === 'noop'), JSON.stringify(plan.app.resources));
  const again = await runNh(ns(), ['install'], { cwd });
  assert.equal(again.code, 1);
  assert.match(again.stderr, /already installed .*revision 1/);
});

test('drift made by hand shows up in the plan and nh upgrade puts it back', async () => {
  kubectl(['-n', ns(), 'label', 'svc', 'notes-store', 'nh.dev/app-', 'extra=by-hand']);
  kubectl(['-n', ns(), 'patch', 'svc', 'notes-store', '--type=merge', '-p', '{"spec":{"ports":[{"port":8080,"targetPort":8081}]}}']);
  const plan = JSON.parse((await runNh(ns(), ['plan', '-o', 'json'], { cwd })).stdout) as AppPlanJson;
  const svc = plan.app.resources.find((x) => x.kind === 'Service' && x.name === 'notes-store')!;
  assert.equal(svc.action, 'update');
  assert.ok(svc.fields.some((f) => f.includes('targetPort')), svc.fields.join());
  const r = await runNh(ns(), ['upgrade'], { cwd });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.equal(kubectl(['-n', ns(), 'get', 'svc', 'notes-store', '-o', 'jsonpath={.spec.ports[0].targetPort}']).stdout, '8080');
});

test('an upgrade that renders a new ConfigMap prunes the old one', async () => {
  const before = kubectl(['-n', ns(), 'get', 'cm', '-l', 'nh.dev/app=notes,!nh.dev/record', '-o', 'name']).stdout.trim();
  const server = join(cwd, 'api/server.js');
  writeFileSync(server, readFileSync(server, 'utf8').replace("service: 'notes-api'", "service: 'notes-api v2'"));
  const plan = JSON.parse((await runNh(ns(), ['plan', '-o', 'json'], { cwd })).stdout) as AppPlanJson;
  assert.equal(plan.app.action, 'upgrade');
  const actions = plan.app.resources.filter((x) => x.action !== 'noop').map((x) => [x.kind, x.action]).sort();
  assert.deepEqual(actions, [['ConfigMap', 'create'], ['ConfigMap', 'prune'], ['Deployment', 'update']]);
  const r = await runNh(ns(), ['upgrade', '--timeout', '2m'], { cwd });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const after = kubectl(['-n', ns(), 'get', 'cm', '-l', 'nh.dev/app=notes,!nh.dev/record', '-o', 'name']).stdout.trim();
  assert.notEqual(after, before);
  assert.equal(after.split('\n').length, 1);
  assert.equal(kubectl(['-n', ns(), 'get', before, '--ignore-not-found', '-o', 'name']).stdout.trim(), '');
});

test('nh uninstall removes everything nh labelled, and nothing it did not create', async () => {
  kubectl(['-n', ns(), 'create', 'configmap', 'not-nhs', '--from-literal=a=b']);
  const r = await runNh(ns(), ['uninstall', '--timeout', '2m'], { cwd });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /preDelete hook Job notes-backup: complete/);
  const left = kubectl(['-n', ns(), 'get', 'all,cm,secret,jobs', '-l', 'nh.dev/app=notes', '-o', 'name']).stdout.trim();
  assert.equal(left, '');
  assert.equal(kubectl(['-n', ns(), 'get', 'pods', '-o', 'name']).stdout.trim(), '');
  assert.equal(kubectl(['-n', ns(), 'get', 'cm', 'not-nhs', '-o', 'name']).stdout.trim(), 'configmap/not-nhs');
  const again = await runNh(ns(), ['uninstall'], { cwd });
  assert.equal(again.code, 0);
  assert.match(again.stdout, /not installed/);
});
