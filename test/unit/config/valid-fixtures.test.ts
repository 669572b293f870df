// Valid configs of every shape users commit load into the same normalized model.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadConfig } from '../../../src/config/load.js';
import { ConfigSchema } from '../../../src/config/schema.js';
import { nodeConfigFiles } from '../../../src/cli/context.js';
import { repoRoot } from '../../support/paths.js';

const dir = join(repoRoot, 'test/fixtures/valid');
const schema = ConfigSchema.load();

function load(file: string, env: Record<string, string> = {}) {
  const result = loadConfig({ paths: [join(dir, file)], env, files: nodeConfigFiles(dir), schema });
  assert.ok(result.ok, `${file}: ${JSON.stringify(result.problems, null, 2)}`);
  return result;
}

const shapes: Array<[string, string[]]> = [
  ['single-service.yaml', ['booking-api']],
  ['service-list.yaml', ['web', 'db']],
  ['application.yaml', ['web', 'api']],
  ['v1-service.yaml', ['e-micro-agile']],
  ['v1-application.yaml', ['details', 'productpage']],
  ['templated/.nocalhost/config.yaml', ['web', 'api']],
];

for (const [file, names] of shapes) {
  test(`valid: ${file}`, () => {
    assert.deepEqual(load(file).config.services.map((s) => s.name), names);
  });
}

test('the examples/booking config is valid and clean', () => {
  const result = loadConfig({ paths: [join(repoRoot, 'examples/booking/.nocalhost/config.yaml')], env: {}, files: nodeConfigFiles(repoRoot), schema });
  assert.ok(result.ok);
  assert.deepEqual(result.problems, []);
  assert.deepEqual(result.config.services.map((s) => [s.name, s.dependsOn]), [
    ['booking-web', ['booking-api', 'booking-inventory']],
    ['booking-api', ['booking-inventory']],
    ['booking-inventory', []],
  ]);
});

test('templating in a real tree: envFile, _INCLUDE_, defaults and $$', () => {
  const { config } = load('templated/.nocalhost/config.yaml', { WEB_PORT: '28080' });
  const [web, api] = config.services;
  assert.equal(web!.containers[0]!.dev.image, 'node:20-alpine');
  assert.deepEqual(web!.containers[0]!.dev.portForwards, [{ local: 28080, remote: 8080 }]);
  assert.equal(api!.containers[0]!.dev.image, 'node:20');
  assert.deepEqual(api!.containers[0]!.dev.command.run, ['sh', '-c', 'exec node server.js --port $PORT']);
  assert.equal(web!.source.root, join(dir, 'templated'));
});

test('a v1 service converts field by field', () => {
  const dev = load('v1-service.yaml').config.services[0]!.containers[0]!.dev;
  assert.equal(dev.image, 'codingcorp/java:11');
  assert.deepEqual(dev.command, { run: ['./gradlew', 'bootRun'], debug: ['./gradlew', 'bootRun', '--debug-jvm'], build: undefined, hotReloadRun: undefined, hotReloadDebug: undefined });
  assert.deepEqual(dev.portForwards, [{ local: 8080, remote: 8080 }]);
  assert.deepEqual(dev.sync.ignorePatterns, ['.git', '.nocalhost']);
  assert.equal(dev.sync.localRoot, dir);
});
