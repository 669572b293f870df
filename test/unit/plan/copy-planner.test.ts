// The dev copies of Jobs, CronJobs, DaemonSets, bare Pods and duplicates, planned purely: what is held on
// the source, what the copy looks like, and that leaving puts the source back exactly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planChanges } from '../../../src/plan/planner.js';
import { DEV_PID1 } from '../../../src/plan/dev-spec.js';
import type { Json, KubeObject } from '../../../src/model/kube-object.js';
import type { ObservedService } from '../../../src/model/observed.js';
import type { ServicePlan } from '../../../src/plan/types.js';
import { excludeNode } from '../../../src/plan/held.js';
import { aService, applyPatch, desiredOf, ME, NS, options, withoutVersion } from './builders.js';

const POD_SPEC = {
  restartPolicy: 'Never',
  activeDeadlineSeconds: 600,
  containers: [{ name: 'api', image: 'registry/report:1', args: ['--once'], readinessProbe: { exec: { command: ['true'] } } }],
};

function aSource(kind: string, name = 'api', extra: Record<string, unknown> = {}): KubeObject {
  const template = { metadata: { labels: { app: name, 'job-name': name, 'controller-uid': 'u1' } }, spec: POD_SPEC };
  const spec = kind === 'CronJob' ? { schedule: '*/5 * * * *', jobTemplate: { spec: { template } } }
    : kind === 'Pod' ? POD_SPEC
      : kind === 'DaemonSet' ? { selector: { matchLabels: { app: name } }, updateStrategy: { type: 'RollingUpdate' }, template }
        : { template };
  const metadata = { name, namespace: NS, uid: `${kind}-uid`, resourceVersion: '100', ...(kind === 'Pod' ? { labels: { app: name } } : {}) };
  return { apiVersion: 'v1', kind, metadata, spec, ...extra };
}

function planWith(kind: string, seen: Partial<ObservedService>, opts = options()): ServicePlan {
  const service = aService('api', { workload: { kind: kind as 'Job', name: 'api' } });
  const observed = {
    namespace: NS, devWorkloads: [], hpas: [], quotas: [], limitRanges: [],
    services: new Map([['api', { service: 'api', workload: undefined, hpas: [], ...seen }]]),
  };
  return planChanges(desiredOf([service]), observed, opts).services[0]!;
}

/** What the API server would store for a created copy: the object with a uid and a resourceVersion. */
function created(copy: KubeObject): KubeObject {
  return { ...copy, metadata: { ...copy.metadata, uid: 'copy-uid', resourceVersion: '7' } as KubeObject['metadata'] };
}

type PodTemplate = { metadata: { labels: Record<string, string> }; spec: Record<string, unknown> & { containers: Record<string, unknown>[] } };
const templateOf = (copy: KubeObject) => (copy['spec'] as { template: PodTemplate }).template;

test('Job: a dev copy from its pod template that stays up; the Job is left alone; down deletes the copy', () => {
  const job = aSource('Job');
  const plan = planWith('Job', { workload: job });
  assert.equal(plan.action, 'enter');
  assert.equal(plan.copy?.source, undefined, 'nothing is written to the Job');
  const copy = plan.copy!.create!;
  assert.equal(copy.metadata.name, 'api-nh-job');
  const template = templateOf(copy);
  assert.equal(template.spec['restartPolicy'], 'Always');
  assert.equal(template.spec['activeDeadlineSeconds'], undefined);
  assert.deepEqual(template.spec.containers[0]!['command'], [...DEV_PID1]);
  assert.equal(template.spec.containers[0]!['image'], 'dev/node:20');
  assert.equal(template.metadata.labels['app'], 'api', 'Services that select the Job\'s pods select the dev pod');
  assert.equal(template.metadata.labels['job-name'], undefined, 'the Job controller\'s labels are not copied');
  assert.equal(template.metadata.labels['nh.dev/mode'], 'dev');
  const state = JSON.parse(copy.metadata.annotations!['nh.dev/state']!) as { owner: string; copy: { kind: string; name: string } };
  assert.equal(state.owner, ME);
  assert.deepEqual([state.copy.kind, state.copy.name], ['Job', 'api']);

  const again = planWith('Job', { workload: job, copy: created(copy) });
  assert.equal(again.action, 'noop', again.reason);
  const changed = planChanges(desiredOf([aService('api', { workload: { kind: 'Job', name: 'api' }, configHash: 'hash-2' })]),
    { namespace: NS, devWorkloads: [], hpas: [], quotas: [], limitRanges: [], services: new Map([['api', { service: 'api', workload: job, hpas: [], copy: created(copy) }]]) }, options()).services[0]!;
  assert.equal(changed.action, 'update');
  assert.equal(changed.copy?.patch?.ops[0]?.path, '/metadata/resourceVersion');

  const down = planWith('Job', { workload: job, copy: created(copy) }, options({ mode: 'down' }));
  assert.equal(down.action, 'leave');
  assert.deepEqual(down.copy?.remove, { uid: 'copy-uid' });
  assert.equal(down.copy?.source, undefined);
});

test('CronJob: suspended while in dev mode, its suspend (absent, false or true) restored exactly', () => {
  for (const suspend of [undefined, false, true]) {
    const cron = aSource('CronJob', 'api');
    if (suspend !== undefined) (cron['spec'] as Record<string, unknown>)['suspend'] = suspend;
    const plan = planWith('CronJob', { workload: cron });
    assert.equal(plan.action, 'enter');
    const held = applyPatch(cron, plan.copy!.source?.ops ?? [{ op: 'replace', path: '/metadata/resourceVersion', value: '100' }]);
    assert.equal((held['spec'] as { suspend?: boolean }).suspend, true);
    assert.equal(held.metadata.labels?.['nh.dev/mode'], 'dev');
    const copy = created(plan.copy!.create!);
    assert.equal(templateOf(copy).spec.containers[0]!['image'], 'dev/node:20');
    assert.equal(planWith('CronJob', { workload: held, copy }).action, 'noop');
    const down = planWith('CronJob', { workload: held, copy }, options({ mode: 'down' }));
    const restored = applyPatch(held, down.copy!.source!.ops);
    assert.deepEqual(withoutVersion(restored), withoutVersion(cron), `suspend ${String(suspend)} restored`);
  }
});

test('CronJob held but its copy never made (a crash between the two writes): up makes the copy, down releases it', () => {
  const cron = aSource('CronJob');
  const held = applyPatch(cron, planWith('CronJob', { workload: cron }).copy!.source!.ops);
  const resumed = planWith('CronJob', { workload: held });
  assert.equal(resumed.action, 'enter');
  assert.equal(resumed.copy?.source, undefined, 'already held');
  assert.ok(resumed.copy?.create);
  const down = planWith('CronJob', { workload: held }, options({ mode: 'down' }));
  assert.equal(down.action, 'leave');
  assert.deepEqual(withoutVersion(applyPatch(held, down.copy!.source!.ops)), withoutVersion(cron));
});

test('DaemonSet: kept off one node (OnDelete, so no other pod rolls) with the dev pod on that node; restored exactly', () => {
  const ds = aSource('DaemonSet', 'api');
  const plan = planWith('DaemonSet', { workload: ds, nodes: ['node-a', 'node-b'] });
  assert.equal(plan.action, 'enter');
  const held = applyPatch(ds, plan.copy!.source!.ops);
  const heldSpec = held['spec'] as { updateStrategy: unknown; template: { spec: { affinity: unknown } } };
  assert.deepEqual(heldSpec.updateStrategy, { type: 'OnDelete' });
  assert.deepEqual(heldSpec.template.spec.affinity, {
    nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'NotIn', values: ['node-a'] }] }] } },
  });
  const copy = created(plan.copy!.create!);
  assert.deepEqual(templateOf(copy).spec['affinity'], {
    nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['node-a'] }] }] } },
  });
  // Its pod on node-a is gone now: the node comes from the state, not from where pods run.
  const again = planWith('DaemonSet', { workload: held, copy, nodes: ['node-b'] });
  assert.equal(again.action, 'noop', again.reason);
  const down = planWith('DaemonSet', { workload: held, copy, nodes: ['node-b'] }, options({ mode: 'down' }));
  assert.deepEqual(withoutVersion(applyPatch(held, down.copy!.source!.ops)), withoutVersion(ds));
  assert.equal(planWith('DaemonSet', { workload: ds, nodes: [] }).problem?.code, 'NH_NO_NODE');
});

test('excludeNode: every ORed term gets the exclusion; other affinity is kept', () => {
  const affinity = {
    podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [] },
    nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] }, { matchFields: [{ key: 'metadata.name', operator: 'In', values: ['x'] }] }] } },
  };
  const excluded = excludeNode(affinity as unknown as Json, 'n1') as unknown as typeof affinity;
  const not = { key: 'metadata.name', operator: 'NotIn', values: ['n1'] };
  assert.deepEqual(excluded.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms, [
    { matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }], matchFields: [not] },
    { matchFields: [{ key: 'metadata.name', operator: 'In', values: ['x'] }, not] },
  ]);
  assert.deepEqual(excluded.podAntiAffinity, affinity.podAntiAffinity);
});

test('bare Pod: replaced by its copy (deleted only after, by uid) and re-created from the saved spec; an owned Pod is refused', () => {
  const pod = aSource('Pod');
  const plan = planWith('Pod', { workload: pod });
  assert.equal(plan.action, 'enter');
  assert.deepEqual(plan.copy?.deletePod, { name: 'api', uid: 'Pod-uid' });
  const copy = created(plan.copy.create!);
  // The Pod is gone: up is a noop, down re-creates it from the copy's state, then deletes the copy.
  assert.equal(planWith('Pod', { copy }).action, 'noop');
  // Still terminating right after up deleted it: on its way out, so up has nothing left to do.
  const terminating = { ...pod, metadata: { ...pod.metadata, deletionTimestamp: '2026-12-01T17:00:00Z' } };
  assert.equal(planWith('Pod', { workload: terminating, copy }).action, 'noop');
  const down = planWith('Pod', { copy }, options({ mode: 'down' }));
  assert.equal(down.action, 'leave');
  assert.deepEqual(down.copy?.createPod, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'api', labels: { app: 'api' } }, spec: POD_SPEC });
  assert.deepEqual(down.copy?.remove, { uid: 'copy-uid' });

  const owned = aSource('Pod', 'api');
  (owned.metadata as { ownerReferences?: unknown }).ownerReferences = [{ kind: 'ReplicaSet', name: 'api-7f9c', uid: 'rs' }];
  const refused = planWith('Pod', { workload: owned });
  assert.equal(refused.action, 'error');
  assert.equal(refused.problem?.code, 'NH_OWNED_POD');
  assert.match(refused.reason, /ReplicaSet `api-7f9c`/);
});

test('duplicate: a copy per identity with none of the source\'s labels; the source is never written', () => {
  const deployment = { ...aSource('DaemonSet'), kind: 'Deployment', apiVersion: 'apps/v1' };
  const mine = planWith('Deployment', { workload: deployment }, options({ duplicate: true }));
  const theirs = planWith('Deployment', { workload: deployment }, options({ duplicate: true, identity: 'bob@desk' }));
  assert.equal(mine.action, 'enter');
  assert.equal(mine.copy?.source, undefined);
  assert.notEqual(mine.copy?.create?.metadata.name, theirs.copy?.create?.metadata.name);
  assert.match(mine.copy!.create!.metadata.name, /^api-nh-dup-alice-laptop-/);
  const labels = templateOf(mine.copy!.create!).metadata.labels;
  assert.equal(labels['app'], undefined, 'no Service selecting app=api sends it traffic');
  assert.equal(labels['nh.dev/mode'], 'dev');
  const down = planWith('Deployment', { workload: deployment, copy: created(mine.copy!.create!) }, options({ duplicate: true, mode: 'down' }));
  assert.equal(down.action, 'leave');
  assert.equal(down.copy?.source, undefined);
});

test('another identity\'s copy is a conflict unless forced', () => {
  const job = aSource('Job');
  const copy = created(planWith('Job', { workload: job }, options({ identity: 'bob@desk' })).copy!.create!);
  assert.equal(planWith('Job', { workload: job, copy }).action, 'conflict');
  const forced = planWith('Job', { workload: job, copy }, options({ force: true }));
  assert.equal(forced.action, 'update');
  assert.match(forced.reason, /take over from bob@desk/);
});

test('duplicate of a StatefulSet with volumeClaimTemplates: claims of its own per identity, made after the copy, deleted by down', () => {
  const set = {
    apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'api', namespace: NS, uid: 'sts-uid', resourceVersion: '100' },
    spec: {
      serviceName: 'api', selector: { matchLabels: { app: 'api' } },
      template: { metadata: { labels: { app: 'api' } }, spec: { containers: [{ name: 'api', image: 'registry/db:1', volumeMounts: [{ name: 'data', mountPath: '/data' }] }] } },
      volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], storageClassName: 'fast', resources: { requests: { storage: '1Gi' } } } }],
    },
  };
  const mine = planWith('StatefulSet', { workload: set, claims: [] }, options({ duplicate: true }));
  const theirs = planWith('StatefulSet', { workload: set, claims: [] }, options({ duplicate: true, identity: 'bob@desk' }));
  assert.equal(mine.action, 'enter');
  const copy = mine.copy!.create!;
  const claim = mine.copy!.claims![0]!;
  assert.equal(claim.metadata.name, `data-${copy.metadata.name}`);
  assert.notEqual(claim.metadata.name, theirs.copy!.claims![0]!.metadata.name, 'one claim per identity');
  assert.deepEqual(claim['spec'], set.spec.volumeClaimTemplates[0]!.spec);
  assert.equal(claim.metadata.labels!['nh.dev/copy'], (copy['spec'] as { selector: { matchLabels: Record<string, string> } }).selector.matchLabels['nh.dev/copy']);
  assert.deepEqual((templateOf(copy).spec['volumes'] as Json[]).filter((v) => (v as { name: string }).name === 'data'), [{ name: 'data', persistentVolumeClaim: { claimName: claim.metadata.name } }]);
  assert.deepEqual((JSON.parse(copy.metadata.annotations!['nh.dev/state']!) as { copy: { claims: string[] } }).copy.claims, [claim.metadata.name]);
  // Up again with the claim made: nothing to do; with it missing (a run stopped after the copy): it is made.
  assert.equal(planWith('StatefulSet', { workload: set, copy: created(copy), claims: [claim.metadata.name] }, options({ duplicate: true })).action, 'noop');
  const resumed = planWith('StatefulSet', { workload: set, copy: created(copy), claims: [] }, options({ duplicate: true }));
  assert.deepEqual([resumed.action, resumed.reason, resumed.copy!.claims!.map((c) => c.metadata.name)], ['update', 'its claims are missing', [claim.metadata.name]]);
  const down = planWith('StatefulSet', { workload: set, copy: created(copy), claims: [claim.metadata.name] }, options({ duplicate: true, mode: 'down' }));
  assert.deepEqual([down.action, down.copy!.removeClaims], ['leave', [claim.metadata.name]]);
  // Left behind by a down stopped after the copy went: found by its label alone.
  const orphan = planWith('StatefulSet', { workload: set, claims: [claim.metadata.name] }, options({ duplicate: true, mode: 'down' }));
  assert.deepEqual([orphan.action, orphan.copy!.removeClaims], ['leave', [claim.metadata.name]]);
});

test('patches on a dev copy: sent to the copy, not the source; a stopped run resends them; a changed config puts back what they changed outside the template', () => {
  const job = aSource('Job');
  const patches = [{ type: 'merge' as const, body: { metadata: { labels: { team: 'reports' } } }, at: 'c.yaml:9:18' }];
  const service = aService('api', { workload: { kind: 'Job', name: 'api' }, patches, configHash: 'hash-p' });
  const plan = (seen: Partial<ObservedService>, s = service) => planChanges(desiredOf([s]), {
    namespace: NS, devWorkloads: [], hpas: [], quotas: [], limitRanges: [],
    services: new Map([['api', { service: 'api', workload: job, hpas: [], ...seen }]]),
  }, options()).services[0]!;
  const enter = plan({});
  assert.equal(enter.copy?.source, undefined, 'the Job is not patched');
  assert.deepEqual(enter.userPatches?.patches, patches);
  const stateOf = (o: KubeObject) => JSON.parse(o.metadata.annotations!['nh.dev/state']!) as { patches?: { applied: boolean } };
  assert.equal(stateOf(enter.copy!.create!).patches!.applied, false);
  const copy = created(enter.copy!.create!);
  const patched = { ...copy, metadata: { ...copy.metadata, labels: { ...copy.metadata.labels, team: 'reports' }, annotations: { ...copy.metadata.annotations, 'nh.dev/state': enter.userPatches.patchedState } } };
  assert.equal(plan({ copy: patched }).action, 'noop');
  const stopped = plan({ copy });
  assert.deepEqual([stopped.action, stopped.reason], ['update', 'its patches were not all applied (an earlier run stopped half-way)']);
  const plain = plan({ copy: patched }, aService('api', { workload: { kind: 'Job', name: 'api' }, configHash: 'hash-plain' }));
  assert.equal(plain.userPatches, undefined);
  assert.equal(applyPatch(patched, plain.copy!.patch!.ops).metadata.labels!['team'], undefined, 'the label the patch added is gone');
});
