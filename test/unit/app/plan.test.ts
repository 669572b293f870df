// The pure app layers: the desired app (labels, install env, tiers, holds, hooks, duplicates) and the app
// planner against observed states (install, noop, drift, manifest change, prune only what nh created,
// dev-mode holds, uninstall, errors), with the record the run will write.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AppConfig, ServiceConfig } from '../../../src/config/model.js';
import { buildDesiredApp, type DesiredApp } from '../../../src/desired/app.js';
import type { ApiResource } from '../../../src/kube/client.js';
import type { ObservedApp, ObservedResource } from '../../../src/kube/observe-app.js';
import { resourceKey, type AppRecord } from '../../../src/model/app-record.js';
import type { KubeObject } from '../../../src/model/kube-object.js';
import { changedFields, planApp } from '../../../src/plan/app-planner.js';

const at = { file: 'k8s/app.yaml', line: 1, col: 1 };
const NS = 'team';
const options = { mode: 'install' as const, identity: 'ada@laptop', now: '2026-12-01T00:00:00.000Z', nhVersion: '0.1.0' };
const noHooks = { preInstall: [], postInstall: [], preUpgrade: [], postUpgrade: [], preDelete: [], postDelete: [] };

function deployment(name: string, image = 'web:1'): KubeObject {
  return {
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name },
    spec: { selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'main', image, env: [{ name: 'MODE', value: 'prod' }] }] } } },
  };
}
const service = (name: string): KubeObject => ({ apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { ports: [{ port: 80 }] } });
const configMap = (name: string): KubeObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { a: '1' } });

function svcConfig(name: string, waitPods: string[] = []): ServiceConfig {
  return {
    name, workload: { kind: 'Deployment', name }, dependsOn: [], containers: [], source: { file: 'c.yaml', root: '/p' },
    install: { containers: [{ name: 'main', env: [{ name: 'PORT', value: '8080' }], portForwards: [] }], waitFor: { pods: waitPods, jobs: [], tcp: [], http: [] } },
  };
}

function config(services: ServiceConfig[] = []): AppConfig {
  return {
    name: 'shop', services, files: ['c.yaml'],
    install: {
      manifestType: 'rawManifestLocal', at, root: '/p', git: undefined, resourcePaths: [], ignoredPaths: [], hooks: { ...noHooks, preInstall: [], postInstall: [] },
      helm: { set: [], setJson: [], values: undefined, version: undefined, repoUrl: undefined, chartName: undefined }, env: [{ name: 'MODE', value: 'dev' }],
    },
  };
}

function desired(objects: KubeObject[], services: ServiceConfig[] = [], hooks = noHooks): DesiredApp {
  return buildDesiredApp(config(services), { resources: objects.map((object) => ({ object, at })), hooks: Object.fromEntries(Object.entries(hooks).map(([k, v]) => [k, (v as KubeObject[]).map((object) => ({ object, at }))])) as never, source: 'local' });
}

const api = (kind: string): ApiResource => ({ group: kind === 'Deployment' ? 'apps' : '', version: 'v1', kind, plural: `${kind.toLowerCase()}s`, namespaced: true });

/** What observe would see: `live` per name (the dry run returns the desired object as applied). */
function observed(want: DesiredApp, live: Record<string, KubeObject | undefined>, record?: AppRecord, extra: Record<string, KubeObject> = {}): ObservedApp {
  const desiredSeen: ObservedResource[] = want.resources.map((r) => {
    const key = resourceKey({ apiVersion: String(r.object.apiVersion), kind: String(r.object.kind), namespace: NS, name: r.object.metadata.name });
    const object = live[r.object.metadata.name];
    return { key, resource: api(String(r.object.kind)), namespace: NS, live: object, ...(object && !object.metadata.labels?.['nh.dev/mode'] ? { dryRun: { ...r.object, metadata: { ...r.object.metadata, namespace: NS } } } : {}) };
  });
  const inventory = new Map<string, ObservedResource>(desiredSeen.map((o) => [o.key, o]));
  for (const item of record?.inventory ?? []) {
    const key = resourceKey(item);
    if (!inventory.has(key)) inventory.set(key, { key, resource: api(item.kind), namespace: item.namespace, live: extra[item.name] });
  }
  return { namespace: NS, recordObject: record ? { metadata: { name: 'nh-app-shop', resourceVersion: '7' } } : undefined, record, desired: desiredSeen, inventory };
}

function recordOf(want: DesiredApp, extra: AppRecord['inventory'] = []): AppRecord {
  const plan = planApp('shop', want, observed(want, {}), options);
  return { ...plan.next!, inventory: [...plan.next!.inventory, ...extra] };
}

const labelled = (o: KubeObject, app = 'shop'): KubeObject => ({ ...o, metadata: { ...o.metadata, namespace: NS, labels: { 'app.kubernetes.io/managed-by': 'nh', 'nh.dev/app': app } } });

test('the desired app: labels on the object (not its pods), install env into containers (config wins), tiers, holds', () => {
  const want = desired([deployment('api'), service('api'), configMap('cfg'), deployment('web')], [svcConfig('api', ['app=db'])]);
  assert.deepEqual(want.resources.map((r) => `${String(r.object.kind)}/${r.object.metadata.name}@${r.tier}`), ['ConfigMap/cfg@3', 'Service/api@4', 'Deployment/api@5', 'Deployment/web@5']);
  const apiDeployment = want.resources[2]!.object as unknown as { metadata: { labels: Record<string, string> }; spec: { template: { metadata: { labels: Record<string, string> }; spec: { containers: { env: unknown }[] } } } };
  assert.deepEqual(apiDeployment.metadata.labels, { 'app.kubernetes.io/managed-by': 'nh', 'nh.dev/app': 'shop' });
  assert.deepEqual(apiDeployment.spec.template.metadata.labels, { app: 'api' });
  assert.deepEqual(apiDeployment.spec.template.spec.containers[0]!.env, [{ name: 'MODE', value: 'dev' }, { name: 'PORT', value: '8080' }]);
  assert.deepEqual(want.resources[2]!.waitFor, { service: 'api', waits: { pods: ['app=db'], jobs: [], tcp: [], http: [] } });
  assert.equal(want.resources[3]!.waitFor, undefined);
  assert.deepEqual(want.problems, []);
});

test('the desired app: a duplicate object and a wait on a workload the app lacks are problems', () => {
  const want = desired([configMap('a'), configMap('a')], [svcConfig('ghost', ['app=db'])]);
  assert.deepEqual(want.problems.map((p) => p.message.split(' (')[0]), ['ConfigMap `a` is defined twice', 'service `ghost` has dependLabelSelector, but the app installs no Deployment `ghost`']);
});

test('install on an empty namespace: everything created, the record says installed, revision 1', () => {
  const want = desired([deployment('api'), service('api')]);
  const plan = planApp('shop', want, observed(want, {}), options);
  assert.equal(plan.action, 'install');
  assert.deepEqual(plan.resources.map((r) => [r.kind, r.action, r.reason]), [['Service', 'create', 'not on the cluster'], ['Deployment', 'create', 'not on the cluster']]);
  assert.deepEqual([plan.next!.status, plan.next!.revision, plan.next!.installedBy, plan.next!.inventory.every((i) => i.created)], ['installed', 1, 'ada@laptop', true]);
  assert.equal(plan.resources[1]!.object!.metadata.namespace, NS);
});

test('installed and unchanged: noop, nothing to write', () => {
  const want = desired([deployment('api'), service('api-svc')]);
  const live = Object.fromEntries(want.resources.map((r) => [r.object.metadata.name, labelled(r.object)]));
  const again = planApp('shop', want, observed(want, live, recordOf(want)), options);
  assert.equal(again.action, 'noop', again.reason);
  assert.ok(again.resources.every((r) => r.action === 'noop'));
  assert.equal(again.next, undefined);
  assert.match(again.reason, /installed, revision 1, up to date/);
});

test('a changed manifest is an update with the fields the dry run changes; drift says so; adoption says nh never deletes it', () => {
  const want = desired([deployment('api', 'web:2')]);
  const rec = recordOf(desired([deployment('api', 'web:1')]));
  const liveOld = labelled(desired([deployment('api', 'web:1')]).resources[0]!.object);
  const changed = planApp('shop', want, observed(want, { api: liveOld }, rec), options);
  assert.equal(changed.action, 'upgrade');
  assert.deepEqual([changed.resources[0]!.action, changed.resources[0]!.reason, changed.resources[0]!.fields], ['update', 'its manifest changed', ['spec.template.spec.containers[main].image']]);
  assert.deepEqual(changed.hooks.phases, ['preUpgrade', 'postUpgrade']);

  const drifted = planApp('shop', desired([deployment('api', 'web:1')]), observed(desired([deployment('api', 'web:1')]), { api: labelled(deployment('api', 'web:9')) }, rec), options);
  assert.equal(drifted.resources[0]!.reason, 'changed on the cluster since nh applied it');

  const adopted = planApp('shop', want, observed(want, { api: { ...deployment('api', 'web:1'), metadata: { name: 'api', namespace: NS } } }), options);
  assert.match(adopted.resources[0]!.reason, /not installed by nh.*never delete it/);
  assert.equal(adopted.next!.inventory[0]!.created, false);
});

test('prune: only what nh created and still carries this app label; the rest is kept', () => {
  const want = desired([deployment('api')]);
  const gone = (name: string, created: boolean) => ({ apiVersion: 'v1', kind: 'ConfigMap', namespace: NS, name, hash: 'x', created });
  const rec = recordOf(want, [gone('old', true), gone('theirs', false), gone('relabelled', true), gone('vanished', true)]);
  const plan = planApp('shop', want, observed(want, { api: labelled(want.resources[0]!.object) }, rec, {
    old: labelled(configMap('old')), theirs: labelled(configMap('theirs')), relabelled: labelled(configMap('relabelled'), 'other'),
  }), options);
  const byName = Object.fromEntries(plan.resources.filter((r) => r.kind === 'ConfigMap').map((r) => [r.name, r.action]));
  assert.deepEqual(byName, { old: 'prune', theirs: 'keep', relabelled: 'keep' });
  assert.equal(plan.action, 'upgrade');
  assert.deepEqual(plan.next!.inventory.map((i) => i.name), ['api']);
});

test('a workload in dev mode is held back when its manifest changed, and keeps its old hash in the record', () => {
  const old = desired([deployment('api', 'web:1')]);
  const rec = recordOf(old);
  const want = desired([deployment('api', 'web:2')]);
  const inDev = { ...labelled(old.resources[0]!.object), metadata: { ...labelled(old.resources[0]!.object).metadata, labels: { 'nh.dev/mode': 'dev', 'nh.dev/app': 'shop' } } };
  const plan = planApp('shop', want, observed(want, { api: inDev }, rec), options);
  assert.equal(plan.resources[0]!.action, 'held');
  assert.equal(plan.next!.inventory[0]!.hash, rec.inventory[0]!.hash);
  const same = planApp('shop', old, observed(old, { api: inDev }, rec), options);
  assert.deepEqual([same.resources[0]!.action, same.action], ['noop', 'noop']);
});

test('problems: an unknown kind, a dry-run refusal, an unreadable record', () => {
  const want = desired([deployment('api'), { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' } }]);
  const seen = observed(want, {});
  const broken: ObservedApp = { ...seen, desired: [{ ...seen.desired[0]!, live: deployment('api'), dryRunError: Object.assign(new Error('x'), { code: 'NH_KUBE_FORBIDDEN', hint: 'ask', name: 'NhError', message: 'not allowed to patch deployments.apps' }) as never }, { ...seen.desired[1]!, resource: undefined }] };
  const plan = planApp('shop', want, broken, options);
  assert.equal(plan.action, 'error');
  assert.deepEqual(plan.problems.map((p) => p.message.replace(/^k8s\/app.yaml:1:1: /, '')), ['Deployment `api`: not allowed to patch deployments.apps', 'the cluster does not serve Widget (example.com/v1)']);
  const invalid = planApp('shop', want, { ...seen, recordInvalid: 'its record.json is not JSON' }, options);
  assert.equal(invalid.problems[0]!.code, 'NH_APP_RECORD_INVALID');
});

test('uninstall: the recorded delete hooks, every created object; not installed is a noop', () => {
  const want = desired([deployment('api')], [], { ...noHooks, preDelete: [{ apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'backup' } }] } as never);
  const rec = recordOf(want);
  const plan = planApp('shop', undefined, observed(desired([]), {}, rec, { api: labelled(deployment('api')) }), { ...options, mode: 'uninstall' });
  assert.equal(plan.action, 'uninstall');
  assert.deepEqual(plan.resources.map((r) => [r.name, r.action]), [['api', 'prune']]);
  assert.deepEqual(plan.hooks.before.map((j) => j.metadata.name), ['backup']);
  assert.equal(planApp('shop', undefined, observed(desired([]), {}), { ...options, mode: 'uninstall' }).action, 'noop');
});

test('changedFields: status and bookkeeping aside, lists of named items by name', () => {
  const a = { metadata: { name: 'x', resourceVersion: '1', managedFields: [1] }, spec: { containers: [{ name: 'a', image: '1' }, { name: 'b', image: '1' }] }, status: { x: 1 } };
  const b = { metadata: { name: 'x', resourceVersion: '2', managedFields: [2], labels: { l: 'v' } }, spec: { containers: [{ name: 'b', image: '2' }, { name: 'a', image: '1' }] }, status: { x: 2 } };
  assert.deepEqual(changedFields(a, b), ['metadata.labels', 'spec.containers[b].image']);
});
