// Faults of nh's own machine and of its dev pods under a running `nh up` of the booking example, each with an
// edit made meanwhile: nh frozen for 60 s (SIGSTOP, then SIGCONT: a sleeping laptop), the dev pod evicted,
// and the dev pod deleted with a grace period while a large batch is being synced (the node's disk-pressure
// eviction). After each, nh recovers by itself, serves the edit, `nh sync --check` finds no drift, and nh's
// memory and open files are back near where they were after the warm-up. Leaves the cluster's components alone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { kubectl, waitFor } from '../support/cluster.js';
import { evict, faultSuite, readyApiPod, repeatedLines, sleep, type BookingSession } from './booking-session.js';

const suite = faultSuite('faults-session', { stopsComponents: false, warmUpFiles: 120 });
const namespace = () => suite.session().namespace;

function apiPod(): Promise<string | undefined> {
  return readyApiPod(namespace());
}

/** Waits for a ready booking-api pod other than `old`. */
function newApiPod(old: string): Promise<string> {
  return waitFor('a new booking-api pod', async () => {
    const now = await apiPod();
    return now !== old && now;
  }, 120_000);
}

async function checkClean(s: BookingSession): Promise<void> {
  const check = await s.syncCheck();
  assert.equal(check.code, 0, check.stdout + check.stderr);
}

test('nh frozen for 60 s (SIGSTOP, SIGCONT): it picks up where it was and serves the edit made meanwhile', async () => {
  const s = suite.session();
  const mark = s.mark();
  let marker = '';
  try {
    s.nh.kill('SIGSTOP');
    await sleep(1_000);
    marker = s.edit();
    await sleep(59_000);
  } finally {
    s.nh.kill('SIGCONT');
  }
  await s.served(marker);
  await sleep(2_000);
  const out = s.outputSince(mark);
  console.log(`--- output after SIGCONT:\n${out}`);
  assert.doesNotMatch(out, /│ status: (crashed|exited)/, 'no app crashed or exited');
  assert.deepEqual(repeatedLines(out, 3), []);
  await checkClean(s);
});

test('the dev pod evicted: nh follows the new pod and serves the edit made meanwhile', async () => {
  const s = suite.session();
  const mark = s.mark();
  const pod = (await apiPod())!;
  evict(namespace(), pod);
  const marker = s.edit();
  await s.served(marker);
  await newApiPod(pod);
  const out = s.outputSince(mark);
  console.log(`--- output after the eviction:\n${out}`);
  assert.deepEqual(repeatedLines(out, 3), []);
  await checkClean(s);
});

test('the dev pod deleted with a grace period while a large batch is synced: no edit is lost, no drift', async () => {
  const s = suite.session();
  const mark = s.mark();
  const bulk = join(s.project, 'api', 'bulk');
  mkdirSync(bulk, { recursive: true });
  // ≈ 24 MiB of .js files (api syncs only *.js and package.json): seconds of sync, so the deletion lands in it.
  for (let i = 0; i < 120; i++) writeFileSync(join(bulk, `chunk-${i}.js`), `// ${i}\n${'x'.repeat(200 * 1024)}\n`);
  await sleep(300);
  const pod = (await apiPod())!;
  kubectl(['-n', namespace(), 'delete', 'pod', pod, '--grace-period=5', '--wait=false']);
  const marker = s.edit();
  await s.served(marker);
  await newApiPod(pod);
  const out = s.outputSince(mark);
  console.log(`--- output after the deletion:\n${out}`);
  await checkClean(s);
  // The bulk files leave the container again (a delete synced after the fault).
  rmSync(bulk, { recursive: true });
  await s.served(s.edit());
  await checkClean(s);
});

suite.testResourcesBack();
