// The application's install settings as the model carries them: sources, hooks in run order, env with
// envFrom files, per-service install env and waits, positions for later errors; v1 applications too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../../../src/config/load.js';
import { ConfigSchema } from '../../../src/config/schema.js';
import { memoryFiles } from '../../support/memory-files.js';

const schema = ConfigSchema.load();
const CONFIG = '/work/app/.nocalhost/config.yaml';

function loadOk(text: string, extra: Record<string, string> = {}) {
  const result = loadConfig({ paths: [CONFIG], env: {}, files: memoryFiles({ [CONFIG]: text, ...extra }), schema });
  assert.ok(result.ok, JSON.stringify(result.problems));
  return result;
}

const APP = `configProperties: {version: v2}
application:
  name: shop
  manifestType: rawManifestLocal
  resourcePath: [k8s, extra/one.yaml]
  ignoredPath: [k8s/debug.yaml]
  onPreInstall:
    - {path: hooks/b.yaml, weight: "2"}
    - {path: hooks/a.yaml, weight: 1}
    - {path: hooks/c.yaml, weight: "2"}
    - {path: hooks/z.yaml, weight: nonsense}
  env:
    - {name: MODE, value: dev}
  envFrom:
    envFile: [{path: app.env}]
  services:
    - name: api
      dependLabelSelector:
        pods: [app=db]
        jobs: [job-name=migrate]
      containers:
        - name: api
          install:
            env: [{name: PORT, value: 8080}]
            portForward: ["18090:8080"]
`;

test('an application with manifestType: sources, paths with positions, hooks by weight then declaration', () => {
  const { config, problems } = loadOk(APP, { '/work/app/app.env': 'MODE=file\nREGION=eu\n' });
  assert.deepEqual(problems, []);
  const install = config.install!;
  assert.equal(install.manifestType, 'rawManifestLocal');
  assert.equal(install.root, '/work/app');
  assert.equal(install.git, undefined);
  assert.deepEqual(install.resourcePaths.map((p) => [p.value, p.at.line, p.at.col]), [['k8s', 5, 18], ['extra/one.yaml', 5, 23]]);
  assert.deepEqual(install.ignoredPaths.map((p) => p.value), ['k8s/debug.yaml']);
  // A weight that is not an integer counts as 0, as in nhctl; equal weights keep declaration order.
  assert.deepEqual(install.hooks.preInstall.map((h) => h.value), ['hooks/z.yaml', 'hooks/a.yaml', 'hooks/b.yaml', 'hooks/c.yaml']);
  assert.deepEqual(install.hooks.postInstall, []);
  // envFrom first, then env: the inline value wins.
  assert.deepEqual(install.env, [{ name: 'MODE', value: 'dev' }, { name: 'REGION', value: 'eu' }]);
  const api = config.services[0]!;
  assert.deepEqual(api.install.waitFor, { pods: ['app=db'], jobs: ['job-name=migrate'], tcp: [], http: [] });
  assert.deepEqual(api.install.containers, [{ name: 'api', env: [{ name: 'PORT', value: '8080' }], portForwards: [{ local: 18090, remote: 8080 }] }]);
});

test('no manifestType: nh does not install the app', () => {
  const { config } = loadOk('application:\n  name: shop\n  resourcePath: [k8s]\n  services: [{name: api}]\n');
  assert.equal(config.install, undefined);
});

test('a git source and helm settings', () => {
  const { config } = loadOk('application:\n  manifestType: helmGit\n  gitUrl: file:///srv/charts.git\n  gitRef: v2\n  resourcePath: [charts/shop]\n  helmValues: [{key: image.tag, value: 3}]\n  helmVals: {replicaCount: 1}\n  helmVersion: 1.0.0\n  services: []\n');
  const install = config.install!;
  assert.deepEqual(install.git, { url: 'file:///srv/charts.git', ref: 'v2' });
  assert.deepEqual(install.helm, { set: [{ key: 'image.tag', value: '3' }], setJson: [], values: { replicaCount: 1 }, version: '1.0.0', repoUrl: undefined, chartName: undefined });
});

test('a v1 application keeps its install fields at the top level', () => {
  const { config } = loadOk('name: shop\nmanifestType: rawManifest\nresourcePath: [k8s]\nonPreInstall: [{path: hooks/init.yaml}]\nservices:\n  - name: api\n    devContainerImage: node:20\n');
  assert.equal(config.install?.manifestType, 'rawManifest');
  assert.deepEqual(config.install?.resourcePaths.map((p) => [p.value, p.at.line]), [['k8s', 3]]);
  assert.deepEqual(config.install?.hooks.preInstall.map((h) => h.value), ['hooks/init.yaml']);
});

test('an unreadable application envFrom file is a located error', () => {
  const result = loadConfig({ paths: [CONFIG], env: {}, files: memoryFiles({ [CONFIG]: 'application:\n  manifestType: rawManifestLocal\n  envFrom: {envFile: [{path: gone.env}]}\n  services: []\n' }), schema });
  assert.equal(result.ok, false);
  assert.deepEqual(result.problems.filter((p) => p.severity === 'error').map((p) => [p.code, p.line]), [['env-file-unreadable', 3]]);
});
