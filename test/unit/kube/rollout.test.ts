// devPodVerdict: when a dev pod counts as ready, which causes fail at once, and what a pending pod says;
// the shared RolloutWatch: a mirror behind nh's own write never ends a wait; selector matching.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { devPodVerdict, RolloutWatch, waitForDevPod } from '../../../src/kube/rollout.js';
import { selectorMatches } from '../../../src/kube/pods.js';
import { FakeKube } from '../execute/fake-kube.js';
import { aDeployment } from '../plan/builders.js';
import type { KubeObject } from '../../../src/model/kube-object.js';

const workload = (status: object, generation = 2): KubeObject => ({ kind: 'Deployment', metadata: { name: 'api', generation }, status });
const rolledOut = { observedGeneration: 2, replicas: 1, updatedReplicas: 1 };
const pod = (status: object, extra: object = {}): KubeObject => ({ metadata: { name: 'api-1', ...extra }, status });
const waiting = (reason: string, message = '') => ({ phase: 'Pending', containerStatuses: [{ name: 'api', image: 'dev:1', state: { waiting: { reason, message } } }] });
const readyPod = pod({ phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] });

test('done: the controller rolled out and the dev pod is ready', () => {
  assert.deepEqual(devPodVerdict(workload(rolledOut), [readyPod]), { done: true, pod: 'api-1' });
});

test('not done while the controller has not seen the new generation', () => {
  const verdict = devPodVerdict(workload({ ...rolledOut, observedGeneration: 1 }), [readyPod]);
  assert.equal(verdict.done, false);
});

test('fatal at once: image pulls, crash loops, config errors, quota', () => {
  const cases: [KubeObject, KubeObject[], RegExp][] = [
    [workload(rolledOut), [pod(waiting('ImagePullBackOff', 'not found'))], /cannot pull image `dev:1` of container `api` \(ImagePullBackOff\): not found/],
    [workload(rolledOut), [pod(waiting('ErrImageNeverPull'))], /ErrImageNeverPull/],
    [workload(rolledOut), [pod(waiting('CrashLoopBackOff'))], /container `api` keeps crashing/],
    [workload(rolledOut), [pod(waiting('CreateContainerConfigError', 'secret "x" not found'))], /cannot start \(CreateContainerConfigError\): secret "x" not found/],
    [workload({ conditions: [{ type: 'ReplicaFailure', status: 'True', message: 'exceeded quota: small' }] }), [], /cannot create the dev pod: exceeded quota: small/],
    [workload({ conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded' }] }), [], /rollout stopped: ProgressDeadlineExceeded/],
  ];
  for (const [w, pods, why] of cases) {
    const verdict = devPodVerdict(w, pods);
    assert.ok(!verdict.done && verdict.fatal, JSON.stringify(verdict));
    assert.match(verdict.why, why);
  }
});

test('pending: unschedulable and creating pods wait, saying why', () => {
  const unscheduled = pod({ phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/1 nodes are available: 1 Insufficient cpu.' }] });
  const verdict = devPodVerdict(workload(rolledOut), [unscheduled]);
  assert.deepEqual(verdict, { done: false, fatal: false, why: 'pod api-1 cannot be scheduled (Unschedulable): 0/1 nodes are available: 1 Insufficient cpu.' });
  assert.equal(devPodVerdict(workload(rolledOut), [pod(waiting('ContainerCreating'))]).done, false);
  assert.deepEqual(devPodVerdict(workload(rolledOut), [pod({}, { deletionTimestamp: '2026-11-30T00:00:00Z' })]), { done: false, fatal: false, why: 'waiting for the old pod to terminate' });
});

test('selectorMatches: matchLabels and every matchExpressions operator', () => {
  const w = (selector: object): KubeObject => ({ metadata: { name: 'w' }, spec: { selector } });
  const labels = { app: 'api', tier: 'web' };
  const cases: [object, boolean][] = [
    [{ matchLabels: { app: 'api' } }, true],
    [{ matchLabels: { app: 'web' } }, false],
    [{ matchExpressions: [{ key: 'tier', operator: 'In', values: ['web', 'db'] }] }, true],
    [{ matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['web'] }] }, false],
    [{ matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['a'] }] }, true],
    [{ matchExpressions: [{ key: 'app', operator: 'Exists' }] }, true],
    [{ matchExpressions: [{ key: 'app', operator: 'DoesNotExist' }] }, false],
    [{ matchLabels: { app: 'api' }, matchExpressions: [{ key: 'zone', operator: 'Exists' }] }, false],
  ];
  for (const [selector, expected] of cases) assert.equal(selectorMatches(w(selector), labels), expected, JSON.stringify(selector));
  assert.equal(selectorMatches({ metadata: { name: 'no-selector' } }, labels), false);
});

test('a wait does not end on a mirror that has not seen nh\'s own write yet', async () => {
  const kube = new FakeKube();
  const devLabels = { app: 'api', 'nh.dev/mode': 'dev' };
  const dev = (generation: number): KubeObject => {
    const d = aDeployment('api') as { metadata: object; spec: { template: { metadata: object } } };
    return { ...d, metadata: { ...d.metadata, generation }, spec: { ...d.spec, template: { ...d.spec.template, metadata: { labels: devLabels } } } } as unknown as KubeObject;
  };
  // In dev mode at generation 3, its dev pod ready: nh has just written generation 4 (a config change).
  kube.put('Deployment', dev(3));
  const watch = new RolloutWatch(kube, 'team');
  let settled = false;
  const waiting = waitForDevPod(watch, dev(4), { timeoutMs: 5_000, signal: new AbortController().signal, onProgress: () => undefined }).then((pod) => {
    settled = true;
    return pod;
  });
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(settled, false, 'the old generation\'s ready pod must not count');
  kube.put('Deployment', dev(4));
  assert.equal(await waiting, 'api-pod');
  watch.close();
});

test('a change that came while a wait was busy elsewhere is not missed', async () => {
  const kube = new FakeKube();
  kube.put('Deployment', aDeployment('api'));
  const watch = new RolloutWatch(kube, 'team');
  while (!watch.snapshot('Deployment', 'api', aDeployment('api'))) await new Promise((r) => setTimeout(r, 10));
  const seen = watch.version;
  kube.put('Deployment', { ...aDeployment('api'), metadata: { ...aDeployment('api').metadata, generation: 4 } });
  await new Promise((r) => setTimeout(r, 50)); // the change lands in the mirror before the wait asks
  const first = await Promise.race([watch.changed(seen, 60_000, new AbortController().signal).then(() => 'change'), new Promise((r) => setTimeout(() => r('still waiting'), 1_000))]);
  assert.equal(first, 'change');
  watch.close();
});
