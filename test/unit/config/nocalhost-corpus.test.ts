// The corpus of configs in the shapes Nocalhost's IDE plugins, docs and users wrote (test/fixtures/nocalhost):
// each loads to exactly its expected result (valid and its services, or not), with every problem at its place.
// Configs nhctl ran are valid here; only values that are truly wrong are errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../../src/config/load.js';
import { ConfigSchema } from '../../../src/config/schema.js';
import { nodeConfigFiles } from '../../../src/cli/context.js';
import { repoRoot } from '../../support/paths.js';

interface Expected {
  readonly valid: boolean;
  readonly services?: readonly string[];
  /** `file:line:col severity code`, in the order nh reports them. */
  readonly problems: readonly string[];
}

const dir = join(repoRoot, 'test/fixtures/nocalhost');
const expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as Record<string, Expected>;
const schema = ConfigSchema.load();
const files = nodeConfigFiles(dir);

function load(name: string) {
  return loadConfig({ paths: [join(dir, name)], env: {}, files, schema });
}

test('the corpus has at least 40 configs, valid and invalid', () => {
  const all = Object.values(expected);
  assert.ok(all.length >= 40, `${all.length} configs`);
  assert.ok(all.filter((e) => e.valid).length >= 30);
  assert.ok(all.some((e) => !e.valid));
});

for (const [name, want] of Object.entries(expected)) {
  test(`corpus: ${name}`, () => {
    const result = load(name);
    assert.deepEqual({
      valid: result.ok,
      ...(result.ok ? { services: result.config.services.map((s) => s.name) } : {}),
      problems: result.problems.map((p) => `${p.file}:${p.line}:${p.col} ${p.severity} ${p.code}`),
    }, want);
  });
}

function devOf(name: string, service = 0) {
  const result = load(name);
  assert.ok(result.ok);
  return result.config.services[service]!.containers[0]!.dev;
}

test('corpus: the IDE plugins\' empty values read as unset (defaults apply)', () => {
  const dev = devOf('ide-runtime-service-all-null.yaml');
  assert.equal(dev.workDir, '/home/nocalhost-dev');
  assert.equal(dev.shell, undefined);
  assert.equal(dev.debug, undefined);
  assert.deepEqual(dev.portForwards, []);
});

test('corpus: a helmValues mapping is passed whole as --set-json, scalars as --set', () => {
  const result = load('app-helm-value-mapping.yaml');
  assert.ok(result.ok);
  assert.deepEqual(result.config.install?.helm.set, [{ key: 'postgresql.persistence.size', value: '10Gi' }]);
  assert.deepEqual(result.config.install?.helm.setJson, [{
    key: 'index.ingress.annotations',
    value: '{"kubernetes.io/ingress.class":"nginx-internal","alb.ingress.kubernetes.io/listen-ports":"[{ \\"HTTP\\": 80 }]"}',
  }]);
});

test('corpus: envFile variables, defaults and includes are rendered as nhctl rendered them', () => {
  const planner = devOf('app-envfile/.nocalhost/config.yaml');
  assert.equal(planner.image, 'golang:1.22');
  assert.equal(planner.workDir, '/go/src/alice/route-planner');
  const [provider, consumer] = [devOf('app-include/.nocalhost/config.yaml', 0), devOf('app-include/.nocalhost/config.yaml', 1)];
  assert.equal(provider.image, 'maven:3.9-eclipse-temurin-21');
  assert.deepEqual(consumer.portForwards, [{ local: 18081, remote: 8080 }]);
  const billing = devOf('service-include/.nocalhost/config.yaml');
  assert.deepEqual(billing.command.run, ['python', '-m', 'billing']);
  assert.equal(billing.env.find((e) => e.name === 'PRICE_CACHE')?.value, '${HOME}/.cache');
});

test('corpus: a debug port also forwarded as-is is not a clash', () => {
  const result = load('daemonset-gitignore.yaml');
  assert.ok(!result.problems.some((p) => p.code === 'debug-port-clash'));
});
