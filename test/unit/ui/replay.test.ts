import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventStream, type SessionEvent } from '../../../src/events/session-event.js';
import { ReplayState } from '../../../src/ui/replay.js';

function recorded(): { stream: EventStream; events: SessionEvent[] } {
  const stream = new EventStream(() => new Date(0));
  const events: SessionEvent[] = [];
  stream.subscribe((e) => events.push(e));
  return { stream, events };
}

test('a page that connects gets the latest of each kind of event, a bounded tail of logs, in order', () => {
  const { stream, events } = recorded();
  const replay = new ReplayState(3);
  stream.subscribe((e) => replay.add(e));
  stream.emit({ type: 'session-start', app: 'a', namespace: 'n', debug: false, services: [] });
  stream.emit({ type: 'sync', service: 'api', initial: true, files: 3, bytes: 10, latencyMs: 5 });
  for (let i = 0; i < 10; i++) stream.emit({ type: 'log', service: 'api', stream: 'stdout', line: `line ${i}` });
  stream.emit({ type: 'sync', service: 'api', initial: false, files: 1, bytes: 2, latencyMs: 3 });
  stream.emit({ type: 'sync', service: 'web', initial: false, files: 1, bytes: 2, latencyMs: 3 });
  const replayed = replay.events();
  assert.deepEqual(replayed.map((e) => e.seq), [...replayed.map((e) => e.seq)].sort((a, b) => a - b));
  assert.equal(replayed[0], events[0]);
  const syncs = replayed.filter((e) => e.type === 'sync');
  assert.deepEqual(syncs.map((e) => e.type === 'sync' && [e.service, e.initial]), [['api', false], ['web', false]]);
  const logs = replayed.filter((e) => e.type === 'log').map((e) => e.type === 'log' && e.line);
  assert.ok(logs.length >= 3 && logs.length <= 4, `${logs.length} lines`);
  assert.equal(logs.at(-1), 'line 9');
});

test('a page back after a short drop gets exactly the events after the last one it had; after a long one, none (it gets the state)', () => {
  const { stream } = recorded();
  const replay = new ReplayState(3, 10);
  stream.subscribe((e) => replay.add(e));
  for (let i = 0; i < 20; i++) stream.emit({ type: 'log', service: 'api', stream: 'stdout', line: `line ${i}` });
  assert.equal(replay.lastSeq, 20);
  assert.deepEqual(replay.since(17)?.map((e) => e.seq), [18, 19, 20]);
  assert.deepEqual(replay.since(20), []);
  assert.equal(replay.since(2), undefined, 'no longer held');
  assert.equal(replay.since(21), undefined, 'not a seq of this session');
  assert.equal(replay.since(Number.NaN), undefined, 'no Last-Event-ID');
});
