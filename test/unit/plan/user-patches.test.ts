// The config's patches in the pure planner: which fields each may change, their originals saved in the dev
// state before they are sent, a run that stopped between nh's write and the patches, and `nh down` giving
// back the original object exactly. The API server's part is played by applyPatch (JSON patch) and a small
// RFC 7386 merge below; strategic merges are left to the e2e tests on a real API server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DevPatch } from '../../../src/config/model.js';
import type { KubeObject } from '../../../src/model/kube-object.js';
import { planChanges } from '../../../src/plan/planner.js';
import type { ServicePlan } from '../../../src/plan/types.js';
import { patchedPaths } from '../../../src/plan/user-patches.js';
import { aDeployment, aService, applyPatch, desiredOf, observedOf, options, withoutVersion } from './builders.js';

const labelPatch: DevPatch = { type: 'merge', body: { metadata: { labels: { team: 'orders' }, annotations: { 'team/owner': 'dev' } }, spec: { replicas: 2 } }, at: 'c.yaml:9:18' };
const hostPatch: DevPatch = { type: 'json', body: [{ op: 'add', path: '/spec/template/spec/hostAliases', value: [{ ip: '10.0.0.1', hostnames: ['db.local'] }] }], at: 'c.yaml:12:18' };
const patched = aService('api', { patches: [labelPatch, hostPatch], configHash: 'hash-p' });

function planOne(workload: KubeObject, service = patched, mode: 'up' | 'down' = 'up'): ServicePlan {
  return planChanges(desiredOf([service]), observedOf([workload]), options({ mode })).services[0]!;
}

/** RFC 7386, as the API server merges a `merge` patch. */
function merge(target: unknown, patch: unknown): unknown {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return structuredClone(patch);
  const out: Record<string, unknown> = typeof target === 'object' && target !== null && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = merge(out[key], value);
  }
  return out;
}

/** What the executor does: nh's write, then each patch, then the mark; `stopAfter` plays a run killed half-way. */
function up(workload: KubeObject, plan: ServicePlan, stopAfter: 'nh' | 'patches' | 'all' = 'all'): KubeObject {
  let object = plan.workloadPatch ? applyPatch(workload, plan.workloadPatch.ops) : workload;
  if (stopAfter === 'nh') return object;
  for (const patch of plan.userPatches!.patches) {
    object = patch.type === 'json' ? applyPatch(object, patch.body as never) : merge(object, patch.body) as KubeObject;
  }
  if (stopAfter === 'patches') return object;
  return applyPatch(object, [{ op: 'add', path: '/metadata/annotations/nh.dev~1state', value: plan.userPatches!.patchedState }]);
}

const stateOf = (w: KubeObject) => JSON.parse(w.metadata.annotations!['nh.dev/state']!) as { patches?: { applied: boolean; saved: { path: string[]; value?: unknown }[] } };

test('which fields a patch may change: cut at the first list or absent field; a directive takes its whole mapping', () => {
  const base = aDeployment();
  assert.deepEqual(patchedPaths([{ type: 'strategic', at: '', body: { spec: { template: { spec: { containers: [{ name: 'sidecar', image: 'busybox' }] } } } } }], base),
    [['spec', 'template', 'spec', 'containers']]);
  assert.deepEqual(patchedPaths([{ type: 'json', at: '', body: [{ op: 'add', path: '/spec/template/spec/containers/0/env/-', value: { name: 'X', value: '1' } }, { op: 'test', path: '/spec/replicas', value: 3 }] }], base),
    [['spec', 'template', 'spec', 'containers']]);
  assert.deepEqual(patchedPaths([{ type: 'merge', at: '', body: { spec: { template: { spec: { securityContext: { runAsUser: 0 } } } }, metadata: { labels: { a: 'b' } } } }], base),
    [['spec', 'template', 'spec', 'securityContext'], ['metadata', 'labels', 'a']]);
  assert.deepEqual(patchedPaths([{ type: 'strategic', at: '', body: { spec: { strategy: { $retainKeys: ['type'], type: 'Recreate' } } } }], base),
    [['spec', 'strategy']]);
  assert.deepEqual(patchedPaths([{ type: 'json', at: '', body: [{ op: 'move', from: '/metadata/annotations/team~1owner', path: '/metadata/annotations/owner' }] }], base),
    [['metadata', 'annotations', 'owner'], ['metadata', 'annotations', 'team/owner']]);
});

test('enter: the originals of every field the patches may change are saved in nh\'s own write; the plan lists each patch', () => {
  const plan = planOne(aDeployment());
  assert.equal(plan.action, 'enter');
  assert.deepEqual(plan.userPatches!.patches, [labelPatch, hostPatch]);
  assert.ok(plan.fields.includes('patch 1 (merge, c.yaml:9:18): metadata.labels[team], metadata.annotations[team/owner], spec.replicas'), plan.fields.join('\n'));
  assert.ok(plan.fields.includes('patch 2 (json, c.yaml:12:18): template.spec.hostAliases'));
  const written = applyPatch(aDeployment(), plan.workloadPatch!.ops);
  assert.deepEqual(stateOf(written).patches, {
    applied: false,
    saved: [
      { path: ['metadata', 'labels', 'team'] },
      { path: ['metadata', 'annotations', 'team/owner'], value: 'payments' },
      { path: ['spec', 'replicas'], value: 3 },
      { path: ['spec', 'template', 'spec', 'hostAliases'] },
    ],
  });
  assert.equal(stateOf(up(aDeployment(), plan)).patches!.applied, true);
});

test('noop once patched: the fields the patches own are not taken for drift', () => {
  const dev = up(aDeployment(), planOne(aDeployment()));
  assert.equal((dev['spec'] as { replicas: number }).replicas, 2);
  const again = planOne(dev);
  assert.equal(again.action, 'noop', again.fields.join(', '));
});

test('a run stopped between nh\'s write and the patches (or before the mark) sends them again, from the original values', () => {
  for (const stopAfter of ['nh', 'patches'] as const) {
    const half = up(aDeployment(), planOne(aDeployment()), stopAfter);
    const resume = planOne(half);
    assert.equal(resume.action, 'update', stopAfter);
    assert.equal(resume.reason, 'its patches were not all applied (an earlier run stopped half-way)');
    const done = up(half, resume);
    assert.deepEqual(withoutVersion(done), withoutVersion(up(aDeployment(), planOne(aDeployment()))), stopAfter);
    assert.equal(planOne(done).action, 'noop');
  }
});

test('down restores every field a patch changed exactly, from any point of up', () => {
  const original = aDeployment();
  for (const stopAfter of ['nh', 'patches', 'all'] as const) {
    const dev = up(original, planOne(original), stopAfter);
    const leave = planOne(dev, patched, 'down');
    assert.equal(leave.action, 'leave');
    const restored = applyPatch(dev, leave.workloadPatch!.ops);
    assert.deepEqual(withoutVersion(restored), withoutVersion(original), stopAfter);
  }
});

test('patches removed from the config: the update puts their fields back and sends none', () => {
  const original = aDeployment();
  const dev = up(original, planOne(original));
  const plain = aService('api', { configHash: 'hash-plain' });
  const plan = planOne(dev, plain);
  assert.equal(plan.action, 'update');
  assert.equal(plan.userPatches, undefined);
  const updated = applyPatch(dev, plan.workloadPatch!.ops);
  assert.equal(updated.metadata.labels!['team'], undefined);
  assert.equal(updated.metadata.annotations!['team/owner'], 'payments');
  assert.equal((updated['spec'] as { template: { spec: { hostAliases?: unknown } } }).template.spec.hostAliases, undefined);
  assert.equal(stateOf(updated).patches, undefined);
  assert.deepEqual(withoutVersion(applyPatch(updated, planOne(updated, plain, 'down').workloadPatch!.ops)), withoutVersion(original));
});
