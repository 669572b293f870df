// The API server ending nh's watches under a running `nh up` of the booking example: every few seconds the
// watches end as when their time is up (the response finished), then as when the connection is cut, with an
// edit made each time. nh talks to the cluster through a gate (test/e2e/support/api-gate.ts) that passes
// everything through, exec and port-forward included, and ends the open watches on the test's word. nh must
// resume each watch from the resourceVersion it had reached (no new list), keep serving edits, and leave no
// drift. Leaves the cluster's components alone, so it runs in `npm test`.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiGate, type GateRequest } from '../support/api-gate.js';
import { faultSuite, repeatedLines, sleep } from './booking-session.js';

let gate: ApiGate | undefined;
const suite = faultSuite('faults-watches', {
  stopsComponents: false,
  session: async () => {
    gate = await ApiGate.start(() => 'forward');
    return { kubeconfig: gate.kubeconfig };
  },
});
after(() => gate?.close());

/** A list: a GET of a collection (`/api/v1/namespaces/NS/pods`, `/apis/apps/v1/namespaces/NS/deployments`), not a watch. */
function isList(r: GateRequest): boolean {
  const segments = r.path.split('/').filter(Boolean);
  return r.method === 'GET' && !r.watch && segments.length === (segments[0] === 'api' ? 5 : 6) && segments.at(-3) === 'namespaces';
}

for (const how of ['closed', 'reset'] as const) {
  test(`watches ${how === 'closed' ? 'ended by the API server' : 'cut (connection reset)'} every 3 s: nh resumes them and serves each edit`, async () => {
    const s = suite.session();
    const mark = s.mark();
    const seen = gate!.requests.length;
    for (let i = 0; i < 4; i++) {
      const ended = gate!.endWatches(how);
      assert.ok(ended > 0, 'nh had watches open');
      await s.served(s.edit());
      await sleep(3_000);
    }
    const after = gate!.requests.slice(seen);
    const watches = after.filter((r) => r.watch);
    const lists = after.filter(isList);
    console.log(`after the first end: ${watches.length} watches opened, ${lists.length} lists`);
    assert.ok(watches.length >= 4, 'the watches were opened again');
    assert.deepEqual(watches.filter((r) => !r.resourceVersion).map((r) => r.path), [], 'every watch resumed from a resourceVersion');
    if (how === 'closed') assert.deepEqual(lists.map((r) => r.path), [], 'a watch that ended cleanly is resumed, not listed again');
    const out = s.outputSince(mark);
    assert.doesNotMatch(out, /│ status: (crashed|exited)/, 'no app crashed or exited');
    assert.deepEqual(repeatedLines(out, 3), [], 'no line printed over and over');
    const check = await s.syncCheck();
    assert.equal(check.code, 0, check.stdout + check.stderr);
  });
}

suite.testResourcesBack();
