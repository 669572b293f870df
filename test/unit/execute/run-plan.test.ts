// The executor against an in-memory cluster: stale plans stop one service only, status-only changes are
// retried, a dev pod that cannot start is restored while the other services go on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { executePlan, type ExecuteDeps } from '../../../src/execute/run-plan.js';
import { observeService, observeState } from '../../../src/kube/observe.js';
import { planChanges, type PlanOptions } from '../../../src/plan/planner.js';
import type { DesiredState } from '../../../src/desired/build.js';
import { aDeployment, aService, desiredOf, options, withoutVersion } from '../plan/builders.js';
import { FakeKube } from './fake-kube.js';

function setup(names: string[], mode: PlanOptions['mode'] = 'up') {
  const kube = new FakeKube();
  for (const name of names) kube.put('Deployment', aDeployment(name));
  const desired = desiredOf(names.map((n) => aService(n)), false);
  const opts = options({ mode });
  const planOf = async (service: string, restore: boolean) => {
    const one: DesiredState = { ...desired, services: desired.services.filter((s) => s.name === service) };
    return planChanges(one, await observeService(kube, 'team', one.services[0]!), restore ? { ...opts, mode: 'down', force: true } : opts).services[0]!;
  };
  const deps: ExecuteDeps = {
    kube, renderer: 'silent', timeoutMs: 2_000, signal: new AbortController().signal,
    replan: (s) => planOf(s, false), planRestore: (s) => planOf(s, true),
  };
  const plan = async () => planChanges(desired, await observeState(kube, 'team', desired, { findRemoved: false }), opts);
  return { kube, deps, plan };
}

function bumpVersion(kube: FakeKube, name: string, change?: (spec: { replicas: number; template: { spec: { containers: { image: string }[] } } }) => void): void {
  const current = structuredClone(kube.objects.get(`Deployment/${name}`)!) as unknown as { metadata: { resourceVersion: string }; spec: { replicas: number; template: { spec: { containers: { image: string }[] } } } };
  current.metadata.resourceVersion = String(Number(current.metadata.resourceVersion) + 10);
  change?.(current.spec);
  kube.objects.set(`Deployment/${name}`, current as never);
}

test('enter: every service patched once and its dev pod found', async () => {
  const { kube, deps, plan } = setup(['api', 'web']);
  const outcomes = await executePlan(await plan(), deps);
  assert.deepEqual(outcomes.map((o) => [o.service, o.status, o.pod]), [['api', 'done', 'api-pod'], ['web', 'done', 'web-pod']]);
  assert.deepEqual(kube.patches.sort(), ['Deployment/api', 'Deployment/web']);
});

test('stale: a workload changed after planning stops that service only, with nothing written to it', async () => {
  const { kube, deps, plan } = setup(['api', 'web']);
  const planned = await plan();
  bumpVersion(kube, 'api', (spec) => (spec.template.spec.containers[0]!.image = 'registry/api:2.0'));
  const outcomes = await executePlan(planned, deps);
  assert.equal(outcomes[0]!.status, 'stale');
  assert.match(outcomes[0]!.summary, /plan is stale: Deployment `api` changed since nh read it; run again/);
  assert.equal(outcomes[1]!.status, 'done');
  assert.deepEqual(kube.patches, ['Deployment/web']);
});

test('a resourceVersion bump without a change (a status update) is retried', async () => {
  const { kube, deps, plan } = setup(['api']);
  const planned = await plan();
  bumpVersion(kube, 'api');
  const outcomes = await executePlan(planned, deps);
  assert.equal(outcomes[0]!.status, 'done');
});

test('a rollout\'s status updates racing every write: entering and restoring go on through them', async () => {
  const { kube, deps, plan } = setup(['api']);
  kube.stuck.set('api', 'ImagePullBackOff');
  const planned = await plan();
  // The enter's write and the restore's each meet five status updates first (the CI failure: four for a restore).
  kube.statusChurn = [5, 5];
  const outcomes = await executePlan(planned, deps);
  assert.equal(outcomes[0]!.status, 'restored', outcomes[0]!.summary);
  assert.deepEqual(kube.statusChurn, []);
  assert.deepEqual(withoutVersion(kube.objects.get('Deployment/api')!), withoutVersion(aDeployment('api')));
});

test('a dev pod that cannot start: that service is restored to its original, the other is in dev mode', async () => {
  const { kube, deps, plan } = setup(['api', 'web']);
  kube.stuck.set('api', 'ImagePullBackOff');
  const outcomes = await executePlan(await plan(), deps);
  assert.equal(outcomes[0]!.status, 'restored');
  assert.match(outcomes[0]!.summary, /failed and was restored to its original: pod api-pod: cannot pull image `dev\/node:20` of container `api` \(ImagePullBackOff\)/);
  assert.equal(outcomes[1]!.status, 'done');
  assert.deepEqual(withoutVersion(kube.objects.get('Deployment/api')!), withoutVersion(aDeployment('api')));
});

test('down: restores and verifies', async () => {
  const { kube, deps, plan } = setup(['api']);
  await executePlan(await plan(), deps);
  const down = setup(['api'], 'down');
  down.kube.objects.set('Deployment/api', kube.objects.get('Deployment/api')!);
  const outcomes = await executePlan(await down.plan(), down.deps);
  assert.deepEqual(outcomes.map((o) => [o.status, o.summary]), [['done', 'restored to its original']]);
  assert.deepEqual(withoutVersion(down.kube.objects.get('Deployment/api')!), withoutVersion(aDeployment('api')));
});
