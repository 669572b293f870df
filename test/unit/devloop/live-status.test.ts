import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LiveStatus } from '../../../src/cli/render/live-status.js';
import { styleFor, type Terminal } from '../../../src/cli/terminal.js';
import type { DevLoopEvent } from '../../../src/devloop/dev-loop.js';
import type { ServiceStatus } from '../../../src/devloop/status-line.js';
import { fromDevLoop } from '../../../src/events/from-dev-loop.js';
import { EVENT_VERSION } from '../../../src/events/session-event.js';

/** A dev loop event as the session's stream hands it to the terminal view. */
function feed(live: LiveStatus, event: DevLoopEvent): void {
  live.handle({ ...fromDevLoop(event), v: EVENT_VERSION, seq: 1, time: new Date(0).toISOString() });
}

function terminal(interactive: boolean): Terminal & { written: string[] } {
  const written: string[] = [];
  return { written, out: (t) => written.push(t), err: (t) => written.push(t), color: false, interactive };
}

const running: ServiceStatus[] = [{ name: 'api', sync: 'synced', process: { kind: 'running', pod: 'p' }, forwards: [{ local: 18081, state: { kind: 'ok', pod: 'p' } }] }];

test('on a terminal a log line erases the status line, then the status line is drawn again below it', () => {
  const term = terminal(true);
  const live = new LiveStatus(term, styleFor(false), ['api', 'inventory'], () => 80);
  feed(live, { type: 'status', services: running, waitingFor: undefined });
  feed(live, { type: 'output', service: 'api', stream: 'stdout', line: 'hello' });
  assert.deepEqual(term.written, ['\r\u001b[2K● api running :18081', '\r\u001b[2Kapi       │ hello\n● api running :18081']);
  live.clear();
  assert.equal(term.written.at(-1), '\r\u001b[2K');
});

test('without a terminal: plain lines, and a status line only when a service changes', () => {
  const term = terminal(false);
  const live = new LiveStatus(term, styleFor(false), ['api'], () => undefined);
  feed(live, { type: 'status', services: running, waitingFor: undefined });
  feed(live, { type: 'status', services: running, waitingFor: undefined });
  feed(live, { type: 'reload', service: 'api', files: 2, saveToSyncedMs: 17, syncedToRestartedMs: 201 });
  assert.deepEqual(term.written, ['api │ status: running, sync synced, :18081 ok\n', 'api │ ↻ 2 files: saved→synced 17 ms, synced→restarted 201 ms\n']);
  assert.ok(term.written.every((t) => !t.includes('\u001b')));
});

test('while the cluster is out of reach one line says what nh waits for, however many retries fail behind it', () => {
  const since = new Date(2026, 11, 1, 12, 1, 3).getTime();
  const outage = { what: 'the API server', cause: 'connection refused', since };
  const reconnecting: ServiceStatus[] = [{ ...running[0]!, sync: 'reconnecting', process: { kind: 'reconnecting', error: new Error('cut') } }];
  const plain = terminal(false);
  const live = new LiveStatus(plain, styleFor(false), ['api'], () => undefined);
  for (let i = 0; i < 5; i++) feed(live, { type: 'status', services: reconnecting, waitingFor: outage });
  feed(live, { type: 'status', services: running, waitingFor: undefined });
  assert.deepEqual(plain.written, [
    '⧗ waiting for the API server (connection refused) since 12:01:03\n',
    'api │ status: connection to the container lost, reconnecting, sync reconnecting, :18081 ok\n',
    'api │ status: running, sync synced, :18081 ok\n',
  ]);
  const tty = terminal(true);
  feed(new LiveStatus(tty, styleFor(false), ['api'], () => 200), { type: 'status', services: reconnecting, waitingFor: outage });
  assert.ok(tty.written[0]!.startsWith('\r\u001b[2K⧗ waiting for the API server (connection refused) since 12:01:03  ◐ api connection to the container lost'), tty.written[0]);
});
