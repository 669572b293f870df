import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PendingChanges } from '../../../src/sync/batch.js';

const timing = { quietMs: 10, maxDelayMs: 100 };

test('a single save is due after the quiet spell', () => {
  const pending = new PendingChanges();
  assert.equal(pending.dueAt(timing), undefined);
  pending.add('a.js', 1000);
  assert.equal(pending.dueAt(timing), 1010);
  pending.add('a.js', 1004); // the editor's second write
  assert.equal(pending.dueAt(timing), 1014);
  assert.deepEqual(pending.take(), { paths: ['a.js'], firstAt: 1000 });
  assert.equal(pending.dueAt(timing), undefined);
  assert.equal(pending.take(), undefined);
});

test('a burst is cut at the max delay and coalesced per path', () => {
  const pending = new PendingChanges();
  for (let t = 0; t < 1000; t++) pending.add(`f${t % 300}`, 5000 + t / 5); // 1,000 events in 200 ms
  assert.equal(pending.dueAt(timing), 5100, 'never later than first event + maxDelay');
  assert.equal(pending.size, 300);
});

test('a failed batch is put back with its first time', () => {
  const pending = new PendingChanges();
  pending.add('b', 2000);
  const taken = pending.take()!;
  pending.add('c', 2050);
  pending.restore(taken.paths, taken.firstAt, 2060);
  assert.equal(pending.size, 2);
  assert.equal(pending.dueAt(timing), 2060);
  assert.deepEqual(pending.take()!.paths.sort(), ['b', 'c']);
});
