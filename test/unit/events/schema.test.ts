// Every kind of event the stream carries validates against the documented schema (nh-events.schema.json),
// as the dev loop and the session build them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromDevLoop } from '../../../src/events/from-dev-loop.js';
import { EventStream, type SessionEvent, type SessionEventBody } from '../../../src/events/session-event.js';
import { eventValidator } from '../../support/event-schema.js';

const bodies: SessionEventBody[] = [
  { type: 'session-start', app: 'booking', namespace: 'n', debug: true, ui: 'http://127.0.0.1:1/?token=t', services: [
    { name: 'api', workload: { kind: 'Deployment', name: 'api' }, image: 'img', workDir: '/app', hotReload: true, dependsOn: ['db'], forwards: [{ local: 18081, remote: 8080 }], debug: { port: 9229, language: 'node' } },
  ], others: [{ name: 'web', workload: { kind: 'Deployment', name: 'web' }, image: undefined, workDir: '/app', hotReload: false, dependsOn: [], forwards: [] }] },
  { type: 'plan', app: { name: 'booking', action: 'install', reason: 'not installed' }, services: [{ service: 'api', workload: { kind: 'Deployment', name: 'api' }, action: 'enter', reason: 'not in dev mode', fields: ['spec.replicas'], owner: { identity: 'me@host', since: '2026-12-01T10:00:00Z' } }] },
  { type: 'dev-mode', service: 'api', status: 'done', message: 'in dev mode', pod: 'api-1' },
  fromDevLoop({ type: 'status', services: [{ name: 'api', sync: 'reconnecting', process: { kind: 'reconnecting', error: new Error('cut') }, forwards: [{ local: 18081, state: { kind: 'tunnel-down', pod: undefined, message: 'refused' } }] }], waitingFor: { what: 'the API server', cause: 'connection refused', since: 0 } }),
  fromDevLoop({ type: 'process', service: 'api', process: { kind: 'crashed', exitCode: 3, message: undefined } }),
  fromDevLoop({ type: 'process', service: 'api', process: { kind: 'waiting-for', services: ['db'] } }),
  fromDevLoop({ type: 'sync', service: 'api', initial: false, files: 1, bytes: 120, latencyMs: 14 }),
  fromDevLoop({ type: 'reload', service: 'api', files: 1, saveToSyncedMs: 14, syncedToRestartedMs: 180 }),
  fromDevLoop({ type: 'forward', service: 'api', local: 18081, state: { kind: 'ok', pod: 'api-1' } }),
  fromDevLoop({ type: 'output', service: 'api', stream: 'stderr', line: '<b>not markup</b>' }),
  fromDevLoop({ type: 'notice', service: '', level: 'warn', message: 'slow' }),
  fromDevLoop({ type: 'error', service: 'api', code: 'NH_PROCESS_CRASHED', message: 'the process exited with code 3', hint: 'nh restarts it on the next change' }),
  { type: 'debugger', service: 'api', port: 9229, language: 'node', attach: 'attach to 127.0.0.1:9229' },
  { type: 'app', app: 'booking', status: 'progress', message: 'Deployment/api waits for pods app=db' },
  { type: 'service', service: 'web', change: 'joined', debug: true, info: { name: 'web', workload: { kind: 'Deployment', name: 'web' }, image: 'img', workDir: '/app', hotReload: false, dependsOn: [], forwards: [], debug: { port: 9229, language: 'node' } } },
  { type: 'session-end', reason: 'stopped' },
];

test('each kind of event validates against nh-events.schema.json, and a wrong one does not', () => {
  const validate = eventValidator();
  const stream = new EventStream(() => new Date('2026-12-01T12:00:00Z'));
  const events: SessionEvent[] = [];
  stream.subscribe((e) => events.push(JSON.parse(JSON.stringify(e)) as SessionEvent));
  for (const body of bodies) stream.emit(body);
  for (const event of events) assert.ok(validate(event), `${JSON.stringify(event)}: ${JSON.stringify(validate.errors)}`);
  assert.equal(new Set(events.map((e) => e.type)).size, 15);
  assert.equal(validate({ ...events[0], v: 2 }), false);
  assert.equal(validate({ ...events.at(-1), surprise: true }), false);
});
