// buildDesiredState: selection of services, unknown names, and a config hash that follows the dev settings.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildDesiredState } from '../../../src/desired/build.js';
import type { AppConfig, ServiceConfig } from '../../../src/config/model.js';
import type { NhError } from '../../../src/errors.js';

function service(name: string, image = 'dev/node:20'): ServiceConfig {
  return {
    name, workload: { kind: 'Deployment', name }, dependsOn: [], source: { file: 'c.yaml', root: '/p' },
    install: { containers: [], waitFor: { pods: [], jobs: [], tcp: [], http: [] } },
    containers: [{
      name: undefined,
      dev: {
        image, imagePullPolicy: undefined, shell: undefined, workDir: '/app', storageClass: undefined, resources: undefined, persistentVolumeDirs: [],
        command: { run: undefined, debug: undefined, build: undefined, hotReloadRun: undefined, hotReloadDebug: undefined }, debug: undefined, readinessCommand: undefined, hotReload: false,
        sync: { type: 'send', mode: 'pattern', localRoot: '/p', filePatterns: ['.'], ignorePatterns: [] }, env: [], portForwards: [], patches: [],
      },
    }],
  };
}

const app = (...services: ServiceConfig[]): AppConfig => ({ name: 'shop', services, files: ['c.yaml'], install: undefined });

test('no names selects the whole app; names select those services', () => {
  const all = buildDesiredState(app(service('api'), service('web')), []);
  assert.deepEqual([all.wholeApp, all.services.map((s) => s.name)], [true, ['api', 'web']]);
  const some = buildDesiredState(app(service('api'), service('web')), ['web']);
  assert.deepEqual([some.wholeApp, some.services.map((s) => s.name), some.allServiceNames], [false, ['web'], ['api', 'web']]);
});

test('an unknown service name is an error with a suggestion', () => {
  assert.throws(() => buildDesiredState(app(service('booking-api')), ['booking-apj']), (e: NhError) => {
    assert.equal(e.code, 'NH_UNKNOWN_SERVICE');
    assert.equal(e.message, 'no service `booking-apj` in the config');
    assert.equal(e.hint, 'did you mean `booking-api`?');
    return true;
  });
});

test('the config hash changes with the dev settings and only with them', () => {
  const hash = (s: ServiceConfig) => buildDesiredState(app(s), []).services[0]!.configHash;
  assert.equal(hash(service('api')), hash(service('api')));
  assert.notEqual(hash(service('api')), hash(service('api', 'dev/node:22')));
  const otherPorts = { ...service('api'), containers: [{ ...service('api').containers[0]!, dev: { ...service('api').containers[0]!.dev, portForwards: [{ local: 1, remote: 2 }] } }] };
  assert.equal(hash(otherPorts), hash(service('api')), 'port forwards do not touch the workload');
});
