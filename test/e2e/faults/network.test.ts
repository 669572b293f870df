// The API server out of reach under a running `nh up` of the booking example: its packets dropped (not
// refused) for 30 s, with an edit made meanwhile. After it, nh recovers by itself, said what it waited for,
// serves the edit, and `nh sync --check` finds no drift. Blocks the shared API server's port, so it runs only
// with NH_FAULTS=1, under `flock -x /tmp/nh-cluster.lock`. (Watches ended by the API server: watches.test.ts.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { component, faultSuite, repeatedLines, sleep } from './booking-session.js';

const suite = faultSuite('faults-network', { stopsComponents: true });
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

suite.testResourcesBack();
