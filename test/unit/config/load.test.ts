import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig, configRoot } from '../../../src/config/load.js';
import { ConfigSchema } from '../../../src/config/schema.js';
import { DEFAULTS } from '../../../src/config/normalize.js';
import { memoryFiles } from '../../support/memory-files.js';

const schema = ConfigSchema.load();
const CONFIG = '/work/app/.nocalhost/config.yaml';

function load(text: string, env: Record<string, string> = {}, extra: Record<string, string> = {}) {
  return loadConfig({ paths: [CONFIG], env, files: memoryFiles({ [CONFIG]: text, ...extra }), schema });
}

function loadOk(text: string, env?: Record<string, string>, extra?: Record<string, string>) {
  const result = load(text, env, extra);
  assert.ok(result.ok, `expected valid, got ${JSON.stringify(result.problems, null, 2)}`);
  return result;
}

test('a single service object', () => {
  const { config } = loadOk('name: api\nserviceType: deployment\ncontainers:\n  - name: api\n    dev: {image: node:20}\n');
  assert.deepEqual(config.services.map((s) => [s.name, s.workload.kind, s.containers[0]?.name, s.containers[0]?.dev.image]), [['api', 'Deployment', 'api', 'node:20']]);
});

test('a list of services', () => {
  const { config } = loadOk('- name: web\n- name: db\n  serviceType: StatefulSet\n');
  assert.deepEqual(config.services.map((s) => s.workload.kind), ['Deployment', 'StatefulSet']);
});

test('the application form', () => {
  const { config, problems } = loadOk('configProperties: {version: v2}\napplication:\n  services:\n    - name: web\n    - name: api\n');
  assert.deepEqual(config.services.map((s) => s.name), ['web', 'api']);
  assert.deepEqual(problems, []);
});

test('defaults are applied in one step, and visible', () => {
  const { config } = loadOk('name: web\n');
  const dev = config.services[0]!.containers[0]!.dev;
  assert.equal(dev.workDir, DEFAULTS.workDir);
  assert.equal(dev.hotReload, false);
  assert.deepEqual(dev.sync, { type: 'send', mode: 'pattern', localRoot: '/work/app', filePatterns: ['.'], ignorePatterns: [] });
  assert.deepEqual(config.services[0]!.containers[0]!.name, undefined);
});

test('normalizes ports, env (envFrom then env), sync and debug', () => {
  const { config } = loadOk(
    [
      'name: web',
      'containers:',
      '  - dev:',
      '      portForward: ["18080:8080", 9229, "3000"]',
      '      envFrom: {envFile: [{path: dev.env}]}',
      '      env: [{name: A, value: from-env}, {name: N, value: 3}]',
      '      sync: {type: sendreceive, mode: gitignore, localPath: ./web, filePattern: [src], ignoreFilePattern: ["*.log"]}',
      '      debug: {remoteDebugPort: 9229, language: node}',
      '      command: {run: [npm, start], debug: [npm, run, debug]}',
      '      hotReload: true',
    ].join('\n'),
    {},
    { '/work/app/dev.env': '# comment\nA=from-file\nB=b=c\nnot a var\n' },
  );
  const dev = config.services[0]!.containers[0]!.dev;
  assert.deepEqual(dev.portForwards, [{ local: 18080, remote: 8080 }, { local: 9229, remote: 9229 }, { local: 3000, remote: 3000 }]);
  assert.deepEqual(dev.env, [{ name: 'A', value: 'from-env' }, { name: 'B', value: 'b=c' }, { name: 'N', value: '3' }]);
  assert.deepEqual(dev.sync, { type: 'send', mode: 'gitIgnore', localRoot: '/work/app/web', filePatterns: ['src'], ignorePatterns: ['*.log'] });
  assert.deepEqual(dev.debug, { remotePort: 9229, language: 'node' });
  assert.deepEqual(dev.command, { run: ['npm', 'start'], debug: ['npm', 'run', 'debug'], build: undefined, hotReloadRun: undefined, hotReloadDebug: undefined });
});

test('sync.type spellings are normalized and say so', () => {
  const { problems } = loadOk('name: web\ncontainers:\n  - dev:\n      sync: {type: sendonly}\n');
  assert.deepEqual(problems.map((p) => [p.code, p.message]), [['sync-type-normalized', 'sync.type `sendonly` normalized to `send`']]);
});

test('v1 fields are converted to v2 with a migration warning', () => {
  const { config, problems } = loadOk(
    'name: api\nserviceType: deployment\ndevContainerImage: golang:1.26\nworkDir: /go/src\nrunCommand: [go, run, .]\ndevPorts: ["2345:2345"]\nsyncFilePattern: [.]\nignoreFilePattern: [.git]\ndependPodsLabelSelector: [app=db]\n',
  );
  const dev = config.services[0]!.containers[0]!.dev;
  assert.equal(dev.image, 'golang:1.26');
  assert.equal(dev.workDir, '/go/src');
  assert.deepEqual(dev.command.run, ['go', 'run', '.']);
  assert.deepEqual(dev.portForwards, [{ local: 2345, remote: 2345 }]);
  const migration = problems.find((p) => p.code === 'v1-service');
  assert.ok(migration);
  assert.match(migration.hint ?? '', /devContainerImage → containers\[0\]\.dev\.image/);
  // Converted to dependLabelSelector.pods, which the app install acts on.
  assert.ok(!problems.some((p) => p.message.startsWith('`dependPodsLabelSelector`')));
  assert.deepEqual(config.services[0]!.install.waitFor.pods, ['app=db']);
});

test('a v1 application config is read, its services converted', () => {
  const { config, problems } = loadOk('name: shop\nmanifestType: rawManifest\nresourcePath: [k8s]\nservices:\n  - name: api\n    devContainerImage: node:20\n');
  assert.equal(config.services[0]!.containers[0]!.dev.image, 'node:20');
  assert.ok(problems.some((p) => p.code === 'v1-config'));
});

test('problems inside a converted v1 service point at the v1 key', () => {
  const result = load('name: api\ndevContainerImage: node:20\nworkDir: relative\n');
  assert.equal(result.ok, false);
  assert.deepEqual(result.problems.filter((p) => p.severity === 'error').map((p) => [p.code, p.line, p.col]), [['relative-workdir', 3, 10]]);
});

test('fields nh does not act on are accepted with a warning, never silently', () => {
  const { problems } = loadOk('name: api\npriorityClass: high\ncontainers:\n  - dev:\n      sidecarImage: x\n      gitUrl: y\n');
  assert.deepEqual(problems.map((p) => [p.code, p.line]), [['not-used', 2], ['not-used', 5], ['not-used', 6]]);
  assert.match(problems[0]!.message, /accepted, not yet used by nh/);
});

test('templating uses the environment first, then configProperties.envFile', () => {
  const text = 'configProperties:\n  version: v2\n  envFile: .env\napplication:\n  services:\n    - name: ${SVC}\n      containers: [{dev: {image: "${IMAGE}"}}]\n';
  const { config } = loadOk(text, { IMAGE: 'from-env' }, { '/work/app/.nocalhost/.env': 'SVC=from-file\nIMAGE=from-file\n' });
  assert.equal(config.services[0]!.name, 'from-file');
  assert.equal(config.services[0]!.containers[0]!.dev.image, 'from-env');
});

test('_INCLUDE_ files are read relative to the including file', () => {
  const { config } = loadOk('- name: web\n${_INCLUDE_:- ./more.yaml}\n', {}, { '/work/app/.nocalhost/more.yaml': '- name: api\n' });
  assert.deepEqual(config.services.map((s) => s.name), ['web', 'api']);
});

test('every problem of every file is reported at once', () => {
  const result = load('- name: web\n  dependsOn: [nope]\n  containers:\n    - dev:\n        workDir: app\n        imag: x\n        portForward: ["1:2:3"]\n');
  assert.equal(result.ok, false);
  assert.deepEqual(result.problems.map((p) => p.code).sort(), ['bad-port', 'relative-workdir', 'unknown-dependency', 'unknown-key']);
});

test('several files form one app: duplicates across files are found', () => {
  const other = '/work/app/.nocalhost/more.yaml';
  const result = loadConfig({ paths: [CONFIG, other], env: {}, schema, files: memoryFiles({ [CONFIG]: '- name: web\n', [other]: '- name: web\n' }) });
  assert.equal(result.ok, false);
  assert.match(result.problems[0]!.message, /defined twice \(first at app\/\.nocalhost\/config\.yaml:1:9\)/);
});

test('the config root is the directory holding .nocalhost/', () => {
  assert.equal(configRoot('/r/app/.nocalhost/config.yaml'), '/r/app');
  assert.equal(configRoot('/r/app/dev.yaml'), '/r/app');
});

test('a file too large to be a config is refused before parsing', () => {
  const big = new Uint8Array(5 * 1024 * 1024).fill(0x61);
  const result = loadConfig({ paths: [CONFIG], env: {}, schema, files: memoryFiles({ [CONFIG]: big }) });
  assert.equal(result.ok, false);
  assert.deepEqual(result.problems.map((p) => [p.code, p.line, p.col]), [['too-large', 1, 1]]);
  assert.match(result.problems[0]!.message, /5\.2 MB/);
});

test('empty values (null, "", 0 for a port, [], {}) are read as unset, exactly as if the key were absent', () => {
  const empty = loadOk(
    [
      'configProperties: {version: v2, envFile: ""}',
      'application:',
      '  name: ""',
      '  manifestType: ""',
      '  env: null',
      '  helmVals: null',
      '  services:',
      '    - name: api',
      '      serviceType: ""',
      '      dependsOn: []',
      '      dependLabelSelector:',
      '      containers:',
      '        - name: api',
      '          hub: null',
      '          install: {env: [], portForward: []}',
      '          dev:',
      '            image: node:20',
      '            workDir: ""',
      '            shell: ""',
      '            resources:',
      '            command: {run: null, debug: [], build: []}',
      '            debug: {remoteDebugPort: 0, language: ""}',
      '            sync: {type: "", mode: "", filePattern: [], ignoreFilePattern: [], localPath: ""}',
      '            env: null',
      '            envFrom: {envFile: null}',
      '            portForward: []',
      '            imagePullPolicy: ""',
      '            sidecarImage: ""',
      '            patches: null',
      '            hotReload: false',
    ].join('\n'),
  );
  const absent = loadOk('configProperties: {version: v2}\napplication:\n  services:\n    - name: api\n      containers:\n        - name: api\n          dev: {image: node:20, hotReload: false}\n');
  assert.deepEqual(empty.config, absent.config);
  // Nothing to warn about: each is an info note at the key that was written.
  assert.deepEqual(empty.problems.filter((p) => p.severity !== 'info'), []);
  const notes = new Map(empty.problems.map((p) => [`${p.line}:${p.col}`, p.message]));
  assert.equal(notes.get('18:13'), '`application.services[0].containers[0].dev.workDir` is empty (""): read as not set, as Nocalhost did');
  assert.equal(notes.get('22:21'), '`application.services[0].containers[0].dev.debug.remoteDebugPort` is empty (0): read as not set, as Nocalhost did');
  assert.equal(notes.get('14:11'), '`application.services[0].containers[0].hub` is empty (null): read as not set, as Nocalhost did');
  assert.ok(empty.problems.every((p) => p.code === 'empty-value'));
});

test('only zero values of the field\'s own type are unset: wrong values are still errors, where they are', () => {
  const result = load(
    'name: api\ncontainers:\n  - dev:\n      debug: {remoteDebugPort: -1}\n      portForward: [0]\n      command: {run: [npm, null]}\n      workDir: " "\n      hotReload: ""\n',
  );
  assert.equal(result.ok, false);
  assert.deepEqual(result.problems.filter((p) => p.severity === 'error').map((p) => [p.code, p.line, p.col]), [
    ['out-of-range', 4, 32],
    ['bad-port', 5, 21],
    ['wrong-type', 6, 28],
    ['relative-workdir', 7, 16],
    ['wrong-type', 8, 18],
  ]);
});

test('a null item of a list of mappings is an item with nothing set; later items keep their positions', () => {
  const { config, problems } = loadOk('name: api\ncontainers:\n  -\n');
  assert.deepEqual(config.services[0]!.containers.map((c) => [c.name, c.dev.workDir]), [[undefined, DEFAULTS.workDir]]);
  assert.deepEqual(problems.map((p) => [p.severity, p.code, p.line]), [['info', 'empty-value', 3]]);
  const two = load('name: api\ncontainers:\n  -\n  - name: side\n    dev: {workDir: side}\n');
  assert.deepEqual(two.problems.filter((p) => p.severity === 'error').map((p) => [p.code, p.line, p.col]), [['container-unnamed', 3, 4], ['relative-workdir', 5, 20]]);
  // An emptied required key is missing, reported at its item.
  const bad = load('name: api\ncontainers:\n  - dev:\n      env: [{name: A}, {name: "", value: x}]\n');
  assert.deepEqual(bad.problems.filter((p) => p.severity === 'error').map((p) => [p.code, p.line, p.col]), [['missing-key', 4, 24]]);
});

test('v1 services and applications read empty values as unset too', () => {
  const { config } = loadOk('name: shop\nmanifestType: ""\nservices:\n  - name: api\n    devContainerImage: node:20\n    workDir: ""\n    devPorts: []\n    runCommand: null\n');
  const dev = config.services[0]!.containers[0]!.dev;
  assert.deepEqual([dev.image, dev.workDir, dev.portForwards, dev.command.run], ['node:20', DEFAULTS.workDir, [], undefined]);
  assert.equal(config.install, undefined);
});
