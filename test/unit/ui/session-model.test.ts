import { test } from 'node:test';
import assert from 'node:assert/strict';
import { namespaceView } from '../../../src/events/from-cluster.js';
import { EventStream, type SessionEventBody } from '../../../src/events/session-event.js';
import { applyEvent, emptyModel } from '../../../src/ui/page/session-model.js';

function fold(bodies: readonly SessionEventBody[], model = emptyModel()) {
  const stream = new EventStream(() => new Date('2026-12-01T12:00:00Z'));
  stream.subscribe((e) => applyEvent(model, e));
  for (const body of bodies) stream.emit(body);
  return model;
}

test("the page's model follows processes, reloads, errors and logs per service", () => {
  const model = fold([
    ...namespaceView('ns', [{ service: 'api', app: 'booking', owner: 'me@host', since: '2026-12-01T10:00:00Z', workload: { kind: 'Deployment', name: 'api' }, image: 'img', pod: { name: 'api-1', ready: true } }]),
    { type: 'process', service: 'api', process: { kind: 'running', pod: 'api-1' } },
    { type: 'reload', service: 'api', files: 1, saveToSyncedMs: 12, syncedToRestartedMs: 150 },
    { type: 'error', service: 'api', code: 'NH_PROCESS_CRASHED', message: 'the process exited with code 3', hint: 'nh restarts it on the next change' },
    { type: 'log', service: 'api', stream: 'stderr', line: '<script>alert(1)</script>' },
  ]);
  assert.equal(model.app, 'booking');
  const api = model.services.get('api')!;
  assert.equal(api.devMode?.message, 'in dev mode by me@host since 2026-12-01T10:00:00Z');
  assert.equal(api.devMode?.pod, 'api-1');
  assert.deepEqual(api.process, { kind: 'running', pod: 'api-1' });
  assert.equal(api.lastReload?.syncedToRestartedMs, 150);
  assert.equal(api.lastError?.hint, 'nh restarts it on the next change');
  assert.equal(model.logs.at(0)?.line, '<script>alert(1)</script>');
});

test('a new session-start keeps only its services (nh ui: a service left dev mode)', () => {
  const info = (name: string) => ({ name, workload: { kind: 'Deployment', name }, image: undefined, workDir: '', hotReload: false, dependsOn: [], forwards: [] });
  const model = fold([
    { type: 'session-start', app: 'a', namespace: 'n', debug: false, services: [info('api'), info('web')] },
    { type: 'reload', service: 'api', files: 1, saveToSyncedMs: 1, syncedToRestartedMs: 2 },
    { type: 'session-start', app: 'a', namespace: 'n', debug: false, services: [info('api')] },
  ]);
  assert.deepEqual([...model.services.keys()], ['api']);
  assert.equal(model.services.get('api')!.lastReload?.files, 1);
});

test('a service of the config outside the session joins it (from the page), runs under the debugger, and leaves', () => {
  const info = (name: string) => ({ name, workload: { kind: 'Deployment', name }, image: undefined, workDir: '', hotReload: false, dependsOn: [], forwards: [], debug: { port: 9229, language: 'node' } });
  const model = fold([
    { type: 'session-start', app: 'a', namespace: 'n', debug: false, services: [info('api')], others: [info('web')] },
    { type: 'app', app: 'a', status: 'progress', message: 'Deployment/web waits for pods app=api' },
  ]);
  assert.equal(model.install?.message, 'Deployment/web waits for pods app=api');
  const web = model.services.get('web')!;
  assert.equal(web.inSession, false);
  const revision = web.revision;
  fold([
    { type: 'service', service: 'web', change: 'joined', debug: true, info: info('web') },
    { type: 'process', service: 'web', process: { kind: 'running', pod: 'web-1' } },
    { type: 'debugger', service: 'web', port: 9229, language: 'node', attach: 'attach to 127.0.0.1:9229' },
  ], model);
  assert.ok(web.inSession && web.debug && web.debugger?.port === 9229);
  assert.ok(web.revision > revision, 'the card is drawn again');
  fold([{ type: 'service', service: 'web', change: 'left', debug: false, info: info('web') }], model);
  assert.equal(web.inSession, false);
  assert.equal(web.process, undefined);
  assert.equal(web.debugger, undefined);
  assert.equal(model.services.get('api')!.inSession, true);
});
