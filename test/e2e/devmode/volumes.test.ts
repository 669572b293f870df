// persistentVolumeDirs on a claim that binds: a hostPath PersistentVolume of a class only this file uses
// stands in for a storage provisioner (the local cluster has none). The dev pod mounts the claim, what it
// holds survives a dev pod replacement and a down/up cycle, and `nh down` restores the workload exactly
// while keeping the claim for the next `nh up`.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { clusterRoot, kubectl, useNamespace, waitFor, waitForDeployment } from '../support/cluster.js';
import { comparable, getObject, idleDeployment, projectWith, runNh } from '../support/nh.js';

const ns = useNamespace('devmode-volumes');
const storageClass = `nh-e2e-hostpath-${process.pid}`;
const hostDir = join(clusterRoot, 'e2e-volumes', storageClass);

after(() => {
  kubectl(['delete', 'pv', storageClass, '--ignore-not-found', '--wait=false'], { allowFailure: true });
  rmSync(hostDir, { recursive: true, force: true });
});

interface ClaimJson {
  readonly items: readonly { metadata: { name: string }; spec: { volumeName?: string }; status: { phase: string } }[];
}

const claims = () => JSON.parse(kubectl(['-n', ns(), 'get', 'pvc', '-l', 'nh.dev/service=cache', '-o', 'json']).stdout) as ClaimJson;

async function readyDevPod(unlike?: string): Promise<string> {
  return waitFor('a ready dev pod', () => {
    const pods = JSON.parse(kubectl(['-n', ns(), 'get', 'pods', '-l', 'app=cache,nh.dev/mode=dev', '-o', 'json']).stdout) as {
      items: { metadata: { name: string; deletionTimestamp?: string }; status: { conditions?: { type: string; status: string }[] } }[];
    };
    const ready = pods.items.find((p) => !p.metadata.deletionTimestamp && p.metadata.name !== unlike && p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
    return ready?.metadata.name;
  }, 120_000);
}

test('persistentVolumeDirs: the claim binds, its data outlives the dev pod and a down/up cycle, down keeps the claim', async () => {
  mkdirSync(hostDir, { recursive: true });
  kubectl(['apply', '-f', '-'], {
    input: JSON.stringify({
      apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name: storageClass },
      spec: { storageClassName: storageClass, capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], persistentVolumeReclaimPolicy: 'Retain', hostPath: { path: hostDir, type: 'Directory' } },
    }),
  });
  kubectl(['-n', ns(), 'apply', '-f', '-'], { input: idleDeployment('cache') });
  await waitForDeployment(ns(), 'cache');
  const original = comparable(getObject(ns(), 'deployment', 'cache'));
  const project = projectWith([
    'configProperties: {version: v2}',
    'application:',
    '  services:',
    '    - name: cache',
    '      containers:',
    `        - dev: {image: "localhost/nh-dev-min:1", imagePullPolicy: Never, workDir: /work, storageClass: ${storageClass}, persistentVolumeDirs: [{path: /cache, capacity: 100Mi}]}`,
    '',
  ].join('\n'));

  const up = await runNh(ns(), ['up', '--detach', '--timeout', '120s'], { cwd: project });
  assert.equal(up.code, 0, up.stdout + up.stderr);
  const [claim] = claims().items;
  assert.equal(claims().items.length, 1);
  assert.equal(claim!.status.phase, 'Bound');
  assert.equal(claim!.spec.volumeName, storageClass);

  const first = await readyDevPod();
  kubectl(['-n', ns(), 'exec', first, '--', 'sh', '-c', 'echo kept > /cache/marker']);
  assert.equal(readFileSync(join(hostDir, 'marker'), 'utf8'), 'kept\n', 'the file is on the volume');

  kubectl(['-n', ns(), 'delete', 'pod', first, '--wait=false']);
  const second = await readyDevPod(first);
  assert.equal(kubectl(['-n', ns(), 'exec', second, '--', 'cat', '/cache/marker']).stdout, 'kept\n');

  const down = await runNh(ns(), ['down'], { cwd: project });
  assert.equal(down.code, 0, down.stdout + down.stderr);
  assert.deepEqual(comparable(getObject(ns(), 'deployment', 'cache')), original, 'the workload is restored exactly');
  assert.deepEqual(claims().items.map((c) => [c.metadata.name, c.status.phase]), [[claim!.metadata.name, 'Bound']], 'the claim is kept');

  const again = await runNh(ns(), ['up', '--detach', '--timeout', '120s'], { cwd: project });
  assert.equal(again.code, 0, again.stdout + again.stderr);
  assert.equal(claims().items.length, 1, 'the same claim is used again');
  assert.equal(kubectl(['-n', ns(), 'exec', await readyDevPod(), '--', 'cat', '/cache/marker']).stdout, 'kept\n');
  assert.equal((await runNh(ns(), ['down'], { cwd: project })).code, 0);
  assert.deepEqual(comparable(getObject(ns(), 'deployment', 'cache')), original);
});
