import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventQueue } from '../../../src/ui/page/event-queue.js';

const isLog = (item: string) => item.startsWith('log');

test('the queue hands items on in order, a slice at a time', () => {
  const queue = new EventQueue<string>(isLog, 100);
  queue.push(Array.from({ length: 100 }, (_, i) => `item ${i}`));
  queue.push(['item 100', 'item 101']);
  const folded: string[] = [];
  let asked = 0;
  queue.drain((item) => folded.push(item), () => assert.fail('nothing to skip'), () => ++asked === 1);
  assert.equal(folded.length, 64, 'stops when asked after 64 items');
  assert.equal(queue.size, 38);
  queue.drain((item) => folded.push(item), () => assert.fail('nothing to skip'), () => false);
  assert.deepEqual(folded, Array.from({ length: 102 }, (_, i) => `item ${i}`));
  assert.equal(queue.size, 0);
});

test('log lines further behind than the log can keep are skipped; every other event is folded', () => {
  const queue = new EventQueue<string>(isLog, 3);
  queue.push(['log 0', 'status 1', 'log 2', 'log 3']);
  queue.push(['log 4', 'log 5', 'end 6']);
  const folded: string[] = [];
  const skipped: string[] = [];
  queue.drain((item) => folded.push(item), (item) => skipped.push(item), () => false);
  assert.deepEqual(folded, ['status 1', 'log 3', 'log 4', 'log 5', 'end 6']);
  assert.deepEqual(skipped, ['log 0', 'log 2']);
});

test('clear drops what waits (a reconnect brings the whole state)', () => {
  const queue = new EventQueue<string>(isLog, 3);
  queue.push(['log 0', 'log 1']);
  queue.clear();
  queue.push(['status 2']);
  const folded: string[] = [];
  queue.drain((item) => folded.push(item), () => undefined, () => false);
  assert.deepEqual(folded, ['status 2']);
});
