import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OutageTracker, outageCause } from '../../../src/devloop/outage.js';
import { ExecError } from '../../../src/kube/exec.js';
import { toKubeError } from '../../../src/kube/errors.js';
import { NhError } from '../../../src/errors.js';

const refused = toKubeError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:16443'), { code: 'ECONNREFUSED' }), { verb: 'list', kind: 'Pod', namespace: 'ns' });

test('failures tell whom nh cannot reach and why; other failures are not an outage', () => {
  assert.deepEqual(outageCause(refused), { what: 'the API server', cause: 'connection refused' });
  const execRefused = new ExecError('exec in ns/p failed: connect ECONNREFUSED', 'NH_EXEC_LOST', Object.assign(new Error('x'), { code: 'ECONNREFUSED' }));
  assert.deepEqual(outageCause(execRefused), { what: 'the API server', cause: 'connection refused' });
  assert.deepEqual(outageCause(new ExecError('exec in ns/p: no answer to pings for 6 s', 'NH_EXEC_LOST')), { what: 'the API server', cause: 'no answer' });
  // As the API server reports them on the exec's status channel (seen on the local cluster).
  const kubelet = new ExecError('exec in ns/p failed: Internal error occurred: error sending request: Post "https://vm:20250/exec/ns/p/app?command=true&error=1&output=1": dial tcp 127.0.0.1:20250: connect: connection refused', 'NH_EXEC_REFUSED', undefined, undefined, 500);
  assert.deepEqual(outageCause(kubelet), { what: 'the kubelet', cause: 'connection refused' });
  const runtime = new ExecError('exec in ns/p failed: Internal error occurred: unable to upgrade connection: rpc error: code = Unavailable desc = connection error: desc = "transport: Error while dialing: dial unix /run/nh-cluster/containerd/containerd.sock: connect: no such file or directory"', 'NH_EXEC_REFUSED', undefined, undefined, 500);
  assert.deepEqual(outageCause(runtime), { what: 'the container runtime', cause: 'unavailable' });
  // A 5xx the API server passes on from behind it names the kubelet; its own overload or storage names itself.
  const restartedKubelet = new ExecError('exec in ns/p failed: Internal error occurred: unable to upgrade connection: container not found ("api")', 'NH_EXEC_REFUSED', undefined, undefined, 500);
  assert.deepEqual(outageCause(restartedKubelet), { what: 'the kubelet', cause: 'HTTP 500' });
  const overloaded = new ExecError('exec in ns/p refused (HTTP 503): the server is currently unable to handle the request', 'NH_EXEC_REFUSED', undefined, undefined, 503);
  assert.deepEqual(outageCause(overloaded), { what: 'the API server', cause: 'HTTP 503' });
  const storage = new ExecError('exec in ns/p refused (HTTP 500): etcdserver: request timed out', 'NH_EXEC_REFUSED', undefined, undefined, 500);
  assert.deepEqual(outageCause(storage), { what: 'the API server', cause: 'HTTP 500' });
  assert.equal(outageCause(new ExecError('exec in ns/p ended without an exit status (socket closed, code 1006)', 'NH_EXEC_LOST')), undefined, 'a closed socket is what happened, not what nh waits for');
  assert.equal(outageCause(new ExecError('exec in ns/p refused (HTTP 403): forbidden', 'NH_EXEC_REFUSED', undefined, undefined, 403)), undefined);
  assert.equal(outageCause(new NhError('NH_SYNC_NO_POD', 'no ready dev pod')), undefined);
  assert.equal(outageCause(new Error('ECONNREFUSED')), undefined, 'only typed errors are judged');
});

test('an outage starts with the first part that loses the cluster and ends with the last one back', () => {
  let clock = 1_000;
  const tracker = new OutageTracker(() => clock);
  assert.equal(tracker.failed('pods:api', new NhError('NH_SYNC_NO_POD', 'no pod')), false);
  assert.equal(tracker.current(), undefined);
  assert.equal(tracker.failed('pods:api', refused), true);
  clock = 2_000;
  tracker.failed('sync:api', refused);
  tracker.failed('pods:api', refused);
  assert.deepEqual(tracker.current(), { what: 'the API server', cause: 'connection refused', since: 1_000 });
  assert.equal(tracker.recovered('pods:api'), undefined, 'sync is still out');
  assert.equal(tracker.recovered('process:api'), undefined, 'a part that never failed ends nothing');
  assert.deepEqual(tracker.recovered('sync:api'), { what: 'the API server', cause: 'connection refused', since: 1_000 });
  assert.equal(tracker.current(), undefined);
});

test('when the API server is back but the kubelet is not, the line names the kubelet from then on', () => {
  let clock = 1_000;
  const tracker = new OutageTracker(() => clock);
  const kubelet = new ExecError('exec in ns/p refused (HTTP 500): error dialing backend: dial tcp: connect: connection refused', 'NH_EXEC_REFUSED', undefined, undefined, 500);
  tracker.failed('pods:api', refused);
  tracker.failed('sync:api', refused);
  clock = 5_000;
  tracker.recovered('pods:api');
  tracker.failed('sync:api', kubelet);
  assert.deepEqual(tracker.current(), { what: 'the kubelet', cause: 'connection refused', since: 5_000 });
});
