// devPodVerdict: when a dev pod counts as ready, which causes fail at once, and what a pending pod says.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { devPodVerdict } from '../../../src/kube/rollout.js';
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
