// The dev container's own settings from the config (imagePullPolicy, storageClass): applied in dev mode and,
// for the workload's fields, given back exactly by `nh down`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planChanges } from '../../../src/plan/planner.js';
import type { KubeObject } from '../../../src/model/kube-object.js';
import { aContainer, aDeployment, aService, applyPatch, desiredOf, observedOf, options, withoutVersion } from './builders.js';

const containerOf = (w: KubeObject) => (w['spec'] as { template: { spec: { containers: Record<string, unknown>[] } } }).template.spec.containers[0]!;

function plan(workload: KubeObject, service = aService(), mode: 'up' | 'down' = 'up') {
  return planChanges(desiredOf([service]), observedOf([workload]), options({ mode })).services[0]!;
}

test('imagePullPolicy: the dev container pulls as configured; down restores the original policy', () => {
  const original = aDeployment();
  const service = aService('api', { containers: [aContainer({ imagePullPolicy: 'Always' })] });
  const entered = plan(original, service);
  assert.ok(entered.fields.includes('containers[api].imagePullPolicy'), entered.fields.join(', '));
  const dev = applyPatch(original, entered.workloadPatch!.ops);
  assert.equal(containerOf(dev)['imagePullPolicy'], 'Always');
  const restored = applyPatch(dev, plan(dev, service, 'down').workloadPatch!.ops);
  assert.equal(containerOf(restored)['imagePullPolicy'], 'IfNotPresent');
  assert.deepEqual(withoutVersion(restored), withoutVersion(original));
});

test('imagePullPolicy unset: the container keeps its own', () => {
  const dev = applyPatch(aDeployment(), plan(aDeployment(), aService('api', { containers: [aContainer({ imagePullPolicy: undefined })] })).workloadPatch!.ops);
  assert.equal(containerOf(dev)['imagePullPolicy'], 'IfNotPresent');
});

test('storageClass: every claim of persistentVolumeDirs asks for it; unset, the cluster default applies', () => {
  const dirs = [{ path: '/root/.m2', capacity: '10Gi' }, { path: '/cache', capacity: '2Gi' }];
  const withClass = plan(aDeployment(), aService('api', { containers: [aContainer({ persistentVolumeDirs: dirs, storageClass: 'local-workspace' })] }));
  assert.deepEqual(withClass.volumeClaims.map((c) => (c['spec'] as { storageClassName?: string; resources: unknown }).storageClassName), ['local-workspace', 'local-workspace']);
  assert.deepEqual(withClass.volumeClaims.map((c) => (c['spec'] as { resources: { requests: { storage: string } } }).resources.requests.storage), ['10Gi', '2Gi']);
  const withoutClass = plan(aDeployment(), aService('api', { containers: [aContainer({ persistentVolumeDirs: dirs })] }));
  assert.ok(withoutClass.volumeClaims.every((c) => !('storageClassName' in (c['spec'] as object))));
});
