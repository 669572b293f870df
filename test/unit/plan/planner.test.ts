// Table tests of the pure planner: enter, update, leave, noop, conflict, error; round trips through a
// simulated API server (applyPatch) check that up then down gives back the original object exactly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planChanges } from '../../../src/plan/planner.js';
import { DEV_PID1 } from '../../../src/plan/dev-spec.js';
import type { KubeObject } from '../../../src/model/kube-object.js';
import type { ServicePlan } from '../../../src/plan/types.js';
import { aContainer, aDeployment, aService, anHpa, applyPatch, desiredOf, ME, observedOf, options, withoutVersion } from './builders.js';

function planOne(workload: KubeObject | undefined, service = aService(), opts = options(), hpas: KubeObject[] = []): ServicePlan {
  const observed = observedOf(workload ? [workload] : [], {}, hpas);
  const plan = planChanges(desiredOf([service]), observed, opts);
  return plan.services[0]!;
}

function up(workload: KubeObject, service = aService(), opts = options()): KubeObject {
  const plan = planOne(workload, service, opts);
  assert.ok(plan.workloadPatch, `expected a patch, got ${plan.action}: ${plan.reason}`);
  return applyPatch(workload, plan.workloadPatch.ops);
}

type Container = Record<string, unknown>;
const containersOf = (w: KubeObject) => (w['spec'] as { template: { spec: { containers: Container[]; volumes?: { name: string }[] } } }).template.spec;

test('enter: a workload not in dev mode gets the dev container, one replica and a no-surge rollout, with the state in the same patch', () => {
  const plan = planOne(aDeployment());
  assert.equal(plan.action, 'enter');
  assert.equal(plan.reason, 'not in dev mode');
  assert.deepEqual(plan.workloadPatch?.ops[0], { op: 'replace', path: '/metadata/resourceVersion', value: '100' });
  for (const field of ['spec.replicas', 'spec.strategy', 'containers[api].image', 'containers[api].command', 'containers[api].args', 'metadata.annotations[nh.dev/state]']) {
    assert.ok(plan.fields.includes(field), `${field} in ${plan.fields.join(', ')}`);
  }
  const dev = applyPatch(aDeployment(), plan.workloadPatch.ops);
  const spec = dev['spec'] as { replicas: number; strategy: unknown };
  assert.equal(spec.replicas, 1);
  assert.deepEqual(spec.strategy, { type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: 1 } });
  const container = containersOf(dev).containers[0]!;
  assert.equal(container['image'], 'dev/node:20');
  assert.deepEqual(container['command'], [...DEV_PID1]);
  assert.equal(container['args'], undefined);
  assert.equal(container['workingDir'], '/app');
  assert.equal(container['readinessProbe'], undefined);
  assert.equal(container['livenessProbe'], undefined);
  assert.deepEqual(container['env'], [{ name: 'PORT', value: '8080' }, { name: 'MODE', value: 'dev' }]);
  assert.deepEqual(container['volumeMounts'], [{ name: 'config', mountPath: '/etc/api' }, { name: 'nh-workdir', mountPath: '/app' }]);
  assert.deepEqual(containersOf(dev).volumes?.map((v) => v.name), ['config', 'nh-workdir']);
  assert.equal(dev.metadata.labels?.['nh.dev/mode'], 'dev');
  const state = JSON.parse(dev.metadata.annotations?.['nh.dev/state'] ?? '{}') as { owner: string; since: string; original: { replicas: number } };
  assert.equal(state.owner, ME);
  assert.equal(state.since, '2026-11-30T10:00:00.000Z');
  assert.equal(state.original.replicas, 3);
  assert.equal(dev.metadata.annotations?.['team/owner'], 'payments');
});

test('strategy: a Recreate workload stays Recreate; replacing a dev pod is always Recreate; an unchanged one keeps its strategy', () => {
  const strategyOf = (w: KubeObject) => (w['spec'] as { strategy: unknown }).strategy;
  assert.deepEqual(strategyOf(up(aDeployment('api', { extra: { strategy: { type: 'Recreate' } } }))), { type: 'Recreate' });
  const dev = up(aDeployment());
  const changed = planOne(dev, aService('api', { configHash: 'hash-2', containers: [aContainer({ image: 'dev/node:22' })] }));
  assert.equal(changed.action, 'update');
  assert.ok(changed.fields.includes('spec.strategy'), changed.fields.join(', '));
  const replaced = applyPatch(dev, changed.workloadPatch!.ops);
  assert.deepEqual(strategyOf(replaced), { type: 'Recreate' });
  // After that replacement, and after the first entry, planning again is a noop either way.
  assert.equal(planOne(replaced, aService('api', { configHash: 'hash-2', containers: [aContainer({ image: 'dev/node:22' })] })).action, 'noop');
  assert.equal(planOne(dev).action, 'noop');
  const asServed = { ...dev, spec: { ...(dev['spec'] as object), strategy: { rollingUpdate: { maxUnavailable: 1, maxSurge: 0 }, type: 'RollingUpdate' } } };
  assert.equal(planOne(asServed).action, 'noop', 'the API server\'s key order is no change');
  // A state-only change (the app renamed) replaces no pod and keeps the strategy.
  assert.deepEqual(planChanges(desiredOf([aService()], true, ['api'], 'other'), observedOf([dev]), options()).services[0]!.fields, ['metadata.annotations[nh.dev/state]']);
});

test('noop: planning again after entering changes nothing', () => {
  const dev = up(aDeployment());
  const plan = planOne(dev, aService(), options({ now: '2026-11-30T11:00:00.000Z' }));
  assert.equal(plan.action, 'noop');
  assert.equal(plan.reason, 'in dev mode and up to date');
  assert.equal(plan.workloadPatch, undefined);
});

test('noop: the API server spelling quantities its own way is not a change', () => {
  const service = aService('api', { containers: [aContainer({ resources: { limits: { cpu: '0.5', memory: '1Gi' } } })] });
  const dev = up(aDeployment(), service);
  const respelled = structuredClone(dev) as unknown as { spec: { template: { spec: { containers: { resources: unknown }[] } } } };
  respelled.spec.template.spec.containers[0]!.resources = { limits: { cpu: '500m', memory: '1024Mi' } };
  assert.equal(planOne(respelled as unknown as KubeObject, service).action, 'noop');
});

test('update: the config changed since entering', () => {
  const dev = up(aDeployment());
  const changed = aService('api', { containers: [aContainer({ image: 'dev/node:22' })], configHash: 'hash-2' });
  const plan = planOne(dev, changed);
  assert.equal(plan.action, 'update');
  assert.equal(plan.reason, 'the config changed since entering dev mode');
  assert.ok(plan.fields.includes('containers[api].image'));
  const updated = applyPatch(dev, plan.workloadPatch!.ops);
  assert.equal(containersOf(updated).containers[0]!['image'], 'dev/node:22');
  // The originals stay those of before dev mode, not of the first dev state.
  const state = JSON.parse(updated.metadata.annotations?.['nh.dev/state'] ?? '{}') as { configHash: string; original: { containers: { api: { image: string } } } };
  assert.equal(state.original.containers.api.image, 'registry/api:1.0');
  assert.equal(state.configHash, 'hash-2');
});

test('update: a field changed on the cluster is put back', () => {
  const dev = up(aDeployment());
  const drifted = structuredClone(dev) as unknown as { spec: { replicas: number } };
  drifted.spec.replicas = 2;
  const plan = planOne(drifted as unknown as KubeObject);
  assert.equal(plan.action, 'update');
  assert.equal(plan.reason, 'fields changed on the cluster since entering dev mode');
  assert.deepEqual(plan.fields, ['spec.replicas']);
});

test('leave: down restores the original exactly, including absent fields', () => {
  const original = aDeployment();
  const dev = up(original);
  const plan = planOne(dev, aService(), options({ mode: 'down' }));
  assert.equal(plan.action, 'leave');
  assert.match(plan.reason, /in dev mode by alice@laptop since 2026-11-30T10:00:00.000Z/);
  const restored = applyPatch(dev, plan.workloadPatch!.ops);
  assert.deepEqual(withoutVersion(restored), withoutVersion(original));
});

test('leave: changes made meanwhile to fields nh does not manage survive', () => {
  const dev = up(aDeployment()) as unknown as { metadata: { annotations: Record<string, string> }; spec: { minReadySeconds?: number } };
  dev.metadata.annotations['ci/last-deploy'] = 'today';
  dev.spec.minReadySeconds = 5;
  const plan = planOne(dev as unknown as KubeObject, aService(), options({ mode: 'down' }));
  const restored = applyPatch(dev as unknown as KubeObject, plan.workloadPatch!.ops);
  assert.equal(restored.metadata.annotations?.['ci/last-deploy'], 'today');
  assert.equal((restored['spec'] as { minReadySeconds?: number }).minReadySeconds, 5);
});

test('noop: down of a workload not in dev mode', () => {
  const plan = planOne(aDeployment(), aService(), options({ mode: 'down' }));
  assert.equal(plan.action, 'noop');
  assert.equal(plan.reason, 'not in dev mode');
});

test('conflict: another identity has the service; --force takes it over', () => {
  const dev = up(aDeployment(), aService(), options({ identity: 'bob@desk', now: '2026-11-29T08:00:00.000Z' }));
  const plan = planOne(dev);
  assert.equal(plan.action, 'conflict');
  assert.equal(plan.problem?.code, 'NH_CONFLICT');
  assert.match(plan.reason, /in dev mode by bob@desk since 2026-11-29T08:00:00.000Z/);
  assert.deepEqual(plan.owner, { identity: 'bob@desk', since: '2026-11-29T08:00:00.000Z' });
  assert.equal(planOne(dev, aService(), options({ mode: 'down' })).action, 'conflict');

  const forced = planOne(dev, aService(), options({ force: true }));
  assert.equal(forced.action, 'update');
  assert.match(forced.reason, /take over from bob@desk/);
  const taken = applyPatch(dev, forced.workloadPatch!.ops);
  const state = JSON.parse(taken.metadata.annotations?.['nh.dev/state'] ?? '{}') as { owner: string; since: string };
  assert.deepEqual([state.owner, state.since], [ME, '2026-11-30T10:00:00.000Z']);
});

test('error: the workload is missing; the hint names close names and other kinds', () => {
  const observed = observedOf([], {
    services: new Map([['api', { service: 'api', workload: undefined, hpas: [], lookup: { similarNames: ['apis'], otherKinds: ['StatefulSet'] } }]]),
  });
  const plan = planChanges(desiredOf([aService()]), observed, options()).services[0]!;
  assert.equal(plan.action, 'error');
  assert.equal(plan.problem?.code, 'NH_WORKLOAD_NOT_FOUND');
  assert.equal(plan.reason, 'no Deployment `api` in namespace `team`');
  assert.match(plan.problem?.hint ?? '', /StatefulSet of that name/);
  assert.match(plan.problem?.hint ?? '', /`apis`/);
});

test('error: custom resources have no dev mode yet', () => {
  const plan = planOne(aDeployment(), aService('api', { workload: { kind: 'CustomResource', name: 'api', resource: 'clonesets.v1alpha1.apps.kruise.io' } }));
  assert.equal(plan.action, 'error');
  assert.equal(plan.problem?.code, 'NH_UNSUPPORTED_KIND');
  assert.match(plan.reason, /custom resources is not supported yet .*clonesets\.v1alpha1\.apps\.kruise\.io/);
});

test('error: corrupt or missing saved state is refused with a way to recover', () => {
  const corrupt = aDeployment('api');
  (corrupt.metadata as { annotations: Record<string, string> }).annotations['nh.dev/state'] = '{"version":1,';
  const missing = aDeployment('api');
  (missing.metadata as { labels: Record<string, string> }).labels['nh.dev/mode'] = 'dev';
  for (const [workload, why] of [[corrupt, /not JSON/], [missing, /no nh.dev\/state annotation/]] as const) {
    for (const mode of ['up', 'down'] as const) {
      const plan = planOne(workload, aService(), options({ mode }));
      assert.equal(plan.action, 'error');
      assert.equal(plan.problem?.code, 'NH_DEV_STATE_INVALID');
      assert.match(plan.reason, why);
      assert.match(plan.problem?.hint ?? '', /kubectl annotate deployment api nh.dev\/state-/);
    }
  }
});

test('error: a container the config names is not in the pod', () => {
  const plan = planOne(aDeployment(), aService('api', { containers: [aContainer({ name: 'worker' })] }));
  assert.equal(plan.action, 'error');
  assert.equal(plan.reason, 'Deployment `api` has no container `worker`');
  assert.equal(plan.problem?.hint, 'its containers: api');
});

test('leave: a dev service removed from the config, when the whole app is planned', () => {
  const gone = up(aDeployment('old'), aService('old'));
  const plan = planChanges(desiredOf([aService()], true, ['api']), observedOf([aDeployment(), gone]), options());
  assert.deepEqual(plan.services.map((s) => [s.service, s.action]), [['api', 'enter'], ['old', 'leave']]);
  assert.equal(plan.services[1]!.reason, 'service `old` is no longer in the config');
  // Naming services limits the plan to them.
  const some = planChanges(desiredOf([aService()], false, ['api']), observedOf([aDeployment(), gone]), options());
  assert.equal(some.services.length, 1);
  // A whole-app down finds it by its marks too, and restores it exactly.
  const down = planChanges(desiredOf([aService()], true, ['api']), observedOf([aDeployment(), gone]), options({ mode: 'down' }));
  assert.deepEqual(down.services.map((s) => [s.service, s.action]), [['api', 'noop'], ['old', 'leave']]);
  assert.deepEqual(withoutVersion(applyPatch(gone, down.services[1]!.workloadPatch!.ops)), withoutVersion(aDeployment('old')));
});

test('a whole-app up leaves alone the dev workloads of another app, and states that name no app', () => {
  const ofBilling = applyPatch(aDeployment('invoices'), planChanges(desiredOf([aService('invoices')], true, ['invoices'], 'billing'), observedOf([aDeployment('invoices')]), options()).services[0]!.workloadPatch!.ops);
  const state = JSON.parse(ofBilling.metadata.annotations!['nh.dev/state']!) as { app?: string };
  assert.equal(state.app, 'billing');
  const { app: _, ...withoutApp } = state;
  const unrecorded = { ...ofBilling, metadata: { ...ofBilling.metadata, name: 'legacy', annotations: { ...ofBilling.metadata.annotations, 'nh.dev/state': JSON.stringify({ ...withoutApp, service: 'legacy' }) } } };
  const plan = planChanges(desiredOf([aService()], true, ['api'], 'shop'), observedOf([aDeployment()], { devWorkloads: [ofBilling, unrecorded] }), options());
  assert.deepEqual(plan.services.map((s) => [s.service, s.action]), [['api', 'enter']]);
  // The same service under a new app name: its state is rewritten, its pod is left alone.
  const renamed = planChanges(desiredOf([aService('invoices')], true, ['invoices'], 'finance'), observedOf([ofBilling]), options()).services[0]!;
  assert.equal(renamed.action, 'update');
  assert.equal(renamed.reason, 'now part of app `finance` (was `billing`)');
  assert.deepEqual(renamed.fields, ['metadata.annotations[nh.dev/state]']);
});

test('HPAs targeting the workload are held at one replica and restored', () => {
  const hpa = anHpa('api', 2, 5);
  const enter = planOne(aDeployment(), aService(), options(), [hpa]);
  assert.ok(enter.fields.includes('hpa[api-hpa].replicas'));
  const held = applyPatch(hpa, enter.hpaPatches[0]!.ops);
  assert.deepEqual([(held['spec'] as { minReplicas: number }).minReplicas, (held['spec'] as { maxReplicas: number }).maxReplicas], [1, 1]);
  const dev = applyPatch(aDeployment(), enter.workloadPatch!.ops);
  assert.equal(planOne(dev, aService(), options(), [held]).action, 'noop');
  const leave = planOne(dev, aService(), options({ mode: 'down' }), [held]);
  assert.deepEqual(withoutVersion(applyPatch(held, leave.hpaPatches[0]!.ops)), withoutVersion(hpa));
});

test('StatefulSet: OnDelete becomes a rolling update in dev mode and comes back', () => {
  const sts = aDeployment('db', { kind: 'StatefulSet' });
  const service = aService('db', { workload: { kind: 'StatefulSet', name: 'db' } });
  const dev = up(sts, service);
  assert.deepEqual((dev['spec'] as { updateStrategy: unknown }).updateStrategy, { type: 'RollingUpdate', rollingUpdate: { partition: 0 } });
  const leave = planOne(dev, service, options({ mode: 'down' }));
  assert.deepEqual(withoutVersion(applyPatch(dev, leave.workloadPatch!.ops)), withoutVersion(sts));
});

test('several containers: probes go from the dev container only; workDir mounts stay apart', () => {
  const two = aDeployment('api', {
    containers: [
      { name: 'api', image: 'a:1', readinessProbe: { exec: { command: ['true'] } } },
      { name: 'proxy', image: 'envoy:1', readinessProbe: { tcpSocket: { port: 9901 } } },
    ],
  });
  const dev = up(two, aService('api', { containers: [aContainer({ name: 'api' })] }));
  const [api, proxy] = containersOf(dev).containers;
  assert.equal(api!['readinessProbe'], undefined);
  assert.deepEqual(proxy!['readinessProbe'], { tcpSocket: { port: 9901 } });
  assert.equal(proxy!['image'], 'envoy:1');

  const both = aService('api', { containers: [aContainer({ name: 'api' }), aContainer({ name: 'proxy', workDir: '/src' })] });
  const devBoth = up(two, both);
  assert.deepEqual(containersOf(devBoth).volumes?.map((v) => v.name), ['config', 'nh-workdir', 'nh-workdir-1']);
  const leave = planOne(devBoth, both, options({ mode: 'down' }));
  assert.deepEqual(withoutVersion(applyPatch(devBoth, leave.workloadPatch!.ops)), withoutVersion(two));
});

test('persistentVolumeDirs: a claim per path; workDir on a claim needs no emptyDir', () => {
  const service = aService('api', { containers: [aContainer({ persistentVolumeDirs: [{ path: '/app', capacity: '1Gi' }, { path: '/cache', capacity: '2Gi' }] })] });
  const plan = planOne(aDeployment(), service);
  assert.equal(plan.volumeClaims.length, 2);
  const dev = applyPatch(aDeployment(), plan.workloadPatch!.ops);
  assert.deepEqual(containersOf(dev).volumes?.map((v) => v.name), ['config', 'nh-pv-0-0', 'nh-pv-0-1']);
});

test('a dev image is required', () => {
  const plan = planOne(aDeployment(), aService('api', { containers: [aContainer({ image: undefined })] }));
  assert.equal(plan.action, 'error');
  assert.match(plan.reason, /no dev image for container `api`/);
});
