// The API server out of reach under a running `nh up` of the booking example: its packets dropped (not
// refused) for 30 s, and its watches closed (the API server restarted with a short --min-request-timeout),
// each with edits made meanwhile. After each, nh recovers by itself, said what it waited for, serves the edit,
// and `nh sync --check` finds no drift. Blocks and restarts the shared API server, so it runs only with
// NH_FAULTS=1, under `flock -x /tmp/nh-cluster.lock`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertResourcesBack, component, faultSuite, repeatedLines, restoreCluster, sleep } from './booking-session.js';

const suite = faultSuite('faults-network', { stopsComponents: true, restore: () => {
  // Back to the cluster's own flags.
  component('restart', 'kube-apiserver');
  restoreCluster();
} });
const skip = suite.skip;

test('the API server unreachable for 30 s (packets dropped): nh says so, recovers, serves the edit made meanwhile', { skip }, async () => {
  const s = suite.session();
  const mark = s.mark();
  let marker = '';
  try {
    component('block');
    await sleep(1_000);
    marker = s.edit();
    await sleep(29_000);
  } finally {
    component('unblock');
  }
  await s.served(marker);
  await sleep(2_000);
  const out = s.outputSince(mark);
  console.log(`--- output during and after the drop:\n${out}`);
  assert.match(out, /⧗ waiting for the API server \(no answer\) since \d\d:\d\d:\d\d/);
  assert.doesNotMatch(out, /│ status: (crashed|exited)/, 'no app crashed or exited');
  assert.deepEqual(repeatedLines(out, 3), [], 'no line printed over and over');
  const check = await s.syncCheck();
  assert.equal(check.code, 0, check.stdout + check.stderr);
});

test('watches closed by the API server (restarted with --min-request-timeout=5): nh resumes them and keeps serving edits', { skip }, async () => {
  const s = suite.session();
  const mark = s.mark();
  const previous = process.env['NH_APISERVER_EXTRA_ARGS'];
  process.env['NH_APISERVER_EXTRA_ARGS'] = '--min-request-timeout=5';
  try {
    component('restart', 'kube-apiserver');
  } finally {
    if (previous === undefined) delete process.env['NH_APISERVER_EXTRA_ARGS'];
    else process.env['NH_APISERVER_EXTRA_ARGS'] = previous;
  }
  // Several watch lifetimes of the short timeout, with an edit in each.
  for (let i = 0; i < 3; i++) {
    await s.served(s.edit());
    await sleep(8_000);
  }
  const out = s.outputSince(mark);
  console.log(`--- output after the restart:\n${out}`);
  assert.doesNotMatch(out, /│ status: (crashed|exited)/);
  assert.deepEqual(repeatedLines(out, 3), []);
  const check = await s.syncCheck();
  assert.equal(check.code, 0, check.stdout + check.stderr);
});

test('nh\'s memory and open files are back near where they were', { skip }, () => assertResourcesBack(suite.session(), suite.baseline()));
