// What tells `nh up` that a dependency is ready: its readinessCommand, else a port, else its running process;
// which ports `nh up` forwards.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { forwardsOf } from '../../../src/devloop/dev-loop.js';
import { commandOf, readinessCheck } from '../../../src/devloop/readiness.js';
import { loadConfig } from '../../../src/config/load.js';
import { ConfigSchema } from '../../../src/config/schema.js';
import { memoryFiles } from '../../support/memory-files.js';

const CONFIG = '/work/app/.nocalhost/config.yaml';

function load(text: string) {
  const result = loadConfig({ paths: [CONFIG], env: {}, files: memoryFiles({ [CONFIG]: text }), schema: ConfigSchema.load() });
  assert.ok(result.ok, JSON.stringify(result.problems));
  return result;
}

function services(text: string) {
  return load(text).config.services;
}

test('a readinessCommand decides, run in workDir, whatever the ports', () => {
  const [db] = services('name: db\ncontainers:\n  - dev: {workDir: /data, readinessCommand: [pg_isready, -q], portForward: ["5432"]}\n');
  assert.deepEqual(readinessCheck(db!, false), { kind: 'command', command: ['sh', '-c', 'cd "$1" && shift && exec "$@"', 'sh', '/data', 'pg_isready', '-q'] });
});

test('without one, the first forwarded remote port, or the debug port under --debug', () => {
  const [api] = services('name: api\ncontainers:\n  - dev: {portForward: ["18081:8080", "9000"], debug: {remoteDebugPort: 9229}}\n');
  assert.deepEqual(readinessCheck(api!, false), { kind: 'port', port: 8080 });
  assert.deepEqual(readinessCheck(api!, true), { kind: 'port', port: 9229 });
});

test('with neither, the dependency is ready once its process runs', () => {
  const [worker] = services('name: worker\n');
  assert.deepEqual(readinessCheck(worker!, false), { kind: 'process' });
});

test('an empty readinessCommand is read as unset (as nhctl read empty lists): the default check', () => {
  const [db] = services('name: db\ncontainers:\n  - dev: {readinessCommand: [], portForward: ["15432:5432"]}\n');
  assert.deepEqual(readinessCheck(db!, false), { kind: 'port', port: 5432 });
});

test('forwards: those of every container, plus the debug port of the first under --debug', () => {
  const [api] = services([
    'name: api',
    'containers:',
    '  - {name: app, dev: {portForward: ["18081:8080"], debug: {remoteDebugPort: 9229}}}',
    '  - {name: metrics, dev: {portForward: ["19090:9090"]}}',
    '',
  ].join('\n'));
  assert.deepEqual(forwardsOf(api!, false), [{ local: 18081, remote: 8080 }, { local: 19090, remote: 9090 }]);
  assert.deepEqual(forwardsOf(api!, true), [{ local: 18081, remote: 8080 }, { local: 19090, remote: 9090 }, { local: 9229, remote: 9229 }]);
});

test("forwards: install.portForward too, unless dev mode's forwards already take that local port", () => {
  const [api] = services([
    'name: api',
    'containers:',
    '  - {name: app, install: {portForward: ["18081:9999", "18099:8081"]}, dev: {portForward: ["18081:8080"]}}',
    '',
  ].join('\n'));
  assert.deepEqual(forwardsOf(api!, false), [{ local: 18081, remote: 8080 }, { local: 18099, remote: 8081 }]);
});

test('with hotReload, hotReloadRun and hotReloadDebug replace run and debug; build is read, and none of them is reported unused', () => {
  const result = load([
    'name: api',
    'containers:',
    '  - dev:',
    '      hotReload: true',
    '      command: {run: [node, a.js], debug: [node, --inspect, a.js], hotReloadRun: [nodemon, a.js], hotReloadDebug: [nodemon, --inspect, a.js], build: [npm, ci]}',
    '',
  ].join('\n'));
  const [api] = result.config.services;
  assert.deepEqual(commandOf(api!, false), ['nodemon', 'a.js']);
  assert.deepEqual(commandOf(api!, true), ['nodemon', '--inspect', 'a.js']);
  assert.deepEqual(api!.containers[0]!.dev.command.build, ['npm', 'ci']);
  assert.deepEqual(result.problems.filter((p) => /hotReload|build/.test(JSON.stringify(p))), []);
  const [plain] = services('name: api\ncontainers:\n  - dev: {command: {run: [node, a.js], hotReloadRun: [nodemon, a.js]}}\n');
  assert.deepEqual(commandOf(plain!, false), ['node', 'a.js'], 'without hotReload, run');
});

test('v1 configs: buildCommand and hotReloadRunCommand reach the same fields', () => {
  const [api] = services('name: api\nbuildCommand: [make]\nrunCommand: [./api]\nhotReloadRunCommand: [air]\n');
  assert.deepEqual(api!.containers[0]!.dev.command.build, ['make']);
  assert.deepEqual(api!.containers[0]!.dev.command.hotReloadRun, ['air']);
  assert.deepEqual(commandOf(api!, false), ['./api'], 'v1 has no hotReload: run');
});
