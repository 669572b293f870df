// Duplicate mode of a StatefulSet with volumeClaimTemplates: each identity's copy gets claims of its own
// (`<template>-<copy>`), so two developers never share the set's storage or each other's, and `nh down
// --duplicate` deletes exactly one's own claims. hostPath PersistentVolumes of a class only this file uses
// stand in for a storage provisioner (the local cluster has none).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { clusterRoot, kubectl, useNamespace, waitFor } from '../support/cluster.js';
import { comparable, getObject, projectWith, runNh } from '../support/nh.js';
import { DEV_IMAGE, IDLE } from './kinds-support.js';

const ns = useNamespace('kinds2-dup-claims');
const storageClass = `nh-e2e-kinds2-claims-${process.pid}`;
const volumes = ['set', 'alice', 'bob'].map((who) => ({ name: `${storageClass}-${who}`, dir: join(clusterRoot, 'e2e-volumes', `${storageClass}-${who}`) }));
const IDENTITIES = ['alice@e2e', 'bob@e2e'] as const;

after(() => {
  for (const v of volumes) {
    kubectl(['delete', 'pv', v.name, '--ignore-not-found', '--wait=false'], { allowFailure: true });
    rmSync(v.dir, { recursive: true, force: true });
  }
});

const STATEFULSET = `apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  serviceName: db
  replicas: 1
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      terminationGracePeriodSeconds: 1
      containers: [${IDLE.replace('}', ', volumeMounts: [{name: data, mountPath: /data}]}')}]
  volumeClaimTemplates:
    - metadata: {name: data}
      spec: {accessModes: [ReadWriteOnce], storageClassName: ${storageClass}, resources: {requests: {storage: 100Mi}}}
`;

interface ClaimJson {
  items: { metadata: { name: string; labels?: Record<string, string> }; status: { phase: string } }[];
}

const claims = () => (JSON.parse(kubectl(['-n', ns(), 'get', 'pvc', '-o', 'json']).stdout) as ClaimJson).items;
const copyPod = async (identity: string) => waitFor(`${identity}'s ready dev pod`, () => {
  const status = kubectl(['-n', ns(), 'get', 'pods', '-l', 'nh.dev/mode=dev', '-o', 'json']).stdout;
  const pods = (JSON.parse(status) as { items: { metadata: { name: string; labels: Record<string, string> }; status: { conditions?: { type: string; status: string }[] } }[] }).items;
  const copies = kubectl(['-n', ns(), 'get', 'deployments', '-l', 'nh.dev/copy', '-o', 'json']).stdout;
  const mine = (JSON.parse(copies) as { items: { metadata: { name: string; annotations: Record<string, string> }; spec: { selector: { matchLabels: Record<string, string> } } }[] }).items
    .find((d) => (JSON.parse(d.metadata.annotations['nh.dev/state']!) as { owner: string }).owner === identity);
  const key = mine?.spec.selector.matchLabels['nh.dev/copy'];
  return pods.find((p) => p.metadata.labels['nh.dev/copy'] === key && p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'))?.metadata.name;
}, 120_000);

test('StatefulSet duplicate: a claim of its own per identity from the volumeClaimTemplates, deleted by down --duplicate; the set untouched', { timeout: 300_000 }, async () => {
  for (const v of volumes) {
    mkdirSync(v.dir, { recursive: true });
    kubectl(['apply', '-f', '-'], {
      input: JSON.stringify({
        apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name: v.name },
        spec: { storageClassName: storageClass, capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], persistentVolumeReclaimPolicy: 'Retain', hostPath: { path: v.dir, type: 'Directory' } },
      }),
    });
  }
  kubectl(['-n', ns(), 'apply', '-f', '-'], { input: STATEFULSET });
  kubectl(['-n', ns(), 'wait', '--for=condition=Ready', 'pod/db-0', '--timeout=120s'], { timeoutMs: 150_000 });
  const original = comparable(getObject(ns(), 'statefulset', 'db'));
  const project = projectWith(['name: db', 'serviceType: statefulset', 'containers:', `  - dev: {image: "${DEV_IMAGE}", imagePullPolicy: Never, workDir: /work}`, ''].join('\n'));

  for (const identity of IDENTITIES) {
    const up = await runNh(ns(), ['up', '--detach', '--duplicate', '--timeout', '2m'], { cwd: project, identity });
    assert.equal(up.code, 0, up.stdout + up.stderr);
  }
  const own = claims().filter((c) => c.metadata.labels?.['nh.dev/copy']);
  assert.equal(own.length, 2, `one claim per identity: ${own.map((c) => c.metadata.name).join(', ')}`);
  assert.ok(own.every((c) => c.metadata.name.startsWith('data-db-nh-dup-') && c.status.phase === 'Bound'));
  const [alice, bob] = IDENTITIES;
  kubectl(['-n', ns(), 'exec', await copyPod(alice), '--', 'sh', '-c', 'echo alice > /data/owner']);
  const bobSees = kubectl(['-n', ns(), 'exec', await copyPod(bob), '--', 'sh', '-c', 'cat /data/owner 2>/dev/null || echo none']).stdout.trim();
  assert.equal(bobSees, 'none', 'bob\'s copy has storage of its own');
  const setSees = kubectl(['-n', ns(), 'exec', 'db-0', '--', 'sh', '-c', 'cat /data/owner 2>/dev/null || echo none']).stdout.trim();
  assert.equal(setSees, 'none', 'so does the StatefulSet');
  assert.deepEqual(comparable(getObject(ns(), 'statefulset', 'db')), original, 'the StatefulSet is never written');

  const down = await runNh(ns(), ['down', '--duplicate', '--timeout', '2m'], { cwd: project, identity: alice });
  assert.equal(down.code, 0, down.stdout + down.stderr);
  await waitFor('alice\'s claim gone', () => claims().filter((c) => c.metadata.labels?.['nh.dev/copy']).length === 1, 60_000);
  assert.equal((await runNh(ns(), ['plan', '--duplicate', '--detailed-exitcode'], { cwd: project, identity: bob })).code, 0, 'bob\'s copy and claim are untouched');
  assert.equal((await runNh(ns(), ['down', '--duplicate', '--timeout', '2m'], { cwd: project, identity: bob })).code, 0);
  await waitFor('every copy\'s claim gone', () => claims().every((c) => !c.metadata.labels?.['nh.dev/copy']), 60_000);
  assert.deepEqual(claims().map((c) => c.metadata.name), ['data-db-0'], 'the set\'s own claim is kept');
  assert.deepEqual(comparable(getObject(ns(), 'statefulset', 'db')), original);
});
