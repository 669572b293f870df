// Cluster components stopped under a running `nh up` of the booking example, each with an edit made while it
// is away: the API server for 10 s, etcd for 5 s, the kubelet for 10 s, containerd for 5 s; then the API
// server out of reach, its packets dropped (not refused) for 30 s. After each, nh recovers by itself, said what
// it waited for, serves the edit, and `nh sync --check` finds no drift; at the end nh's memory and open files
// are back near where they started. One session for all five: each fault starts from the state the one before
// it left, and a session's start is ≈ 15 s of the run. Behaviour is asserted, never time
// (bench/faults.bench.ts measures the recovery). Stops and blocks shared cluster components, so it runs only
// with NH_FAULTS=1, under `flock -x /tmp/nh-cluster.lock` (README: Fault tests). Watches ended by the API
// server: watches.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { component, faultSuite, repeatedLines, restoreCluster, sleep } from './booking-session.js';

const suite = faultSuite('faults-components', { stopsComponents: true });
const skip = suite.skip;

interface Fault {
  readonly title: string;
  /** Short, for the printed output. */
  readonly name: string;
  readonly seconds: number;
  readonly start: () => void;
  readonly end: () => void;
  readonly waitsFor: RegExp | undefined;
  /** The API server answered all along: a failure it passed on from behind it must not be blamed on it. */
  readonly apiServerUp: boolean;
}

/** A component stopped, then started with whatever else exited while it was away. */
const stopped = (name: string, seconds: number, waitsFor: RegExp | undefined, apiServerUp: boolean): Fault => ({
  title: `${name} stopped for ${seconds} s: nh recovers, the edit made meanwhile is served, no drift`,
  name, seconds, start: () => component('stop', name), end: restoreCluster, waitsFor, apiServerUp,
});

const faults: Fault[] = [
  stopped('kube-apiserver', 10, /⧗ waiting for the API server \(connection refused\) since \d\d:\d\d:\d\d/, false),
  // The API server serves exec and the pod watch from its cache: nh has nothing to wait for.
  stopped('etcd', 5, undefined, false),
  stopped('kubelet', 10, /⧗ waiting for the kubelet \(connection refused\) since \d\d:\d\d:\d\d/, true),
  stopped('containerd', 5, /⧗ waiting for the container runtime \(unavailable\) since \d\d:\d\d:\d\d/, true),
  {
    title: 'the API server unreachable for 30 s (packets dropped): nh says so, recovers, serves the edit made meanwhile',
    name: 'the drop', seconds: 30, start: () => component('block'), end: () => component('unblock'),
    waitsFor: /⧗ waiting for the API server \(no answer\) since \d\d:\d\d:\d\d/, apiServerUp: false,
  },
];
for (const fault of faults) {
  test(fault.title, { skip }, async () => {
    const s = suite.session();
    const mark = s.mark();
    let marker = '';
    try {
      fault.start();
      await sleep(1_000);
      marker = s.edit();
      await sleep(fault.seconds * 1_000 - 1_000);
    } finally {
      fault.end();
    }
    await s.served(marker);
    await sleep(2_000);
    const out = s.outputSince(mark);
    console.log(`--- output during and after ${fault.name}:\n${out}`);
    if (fault.waitsFor) assert.match(out, fault.waitsFor);
    if (fault.apiServerUp) assert.doesNotMatch(out, /waiting for the API server/);
    assert.doesNotMatch(out, /│ status: (crashed|exited)/, 'no app crashed or exited');
    assert.deepEqual(repeatedLines(out, 3), [], 'no line printed over and over');
    const check = await s.syncCheck();
    assert.equal(check.code, 0, check.stdout + check.stderr);
  });
}

suite.testResourcesBack();
