// Duplicate mode: two developers each get a personal copy of booking-api at once, with labels of its own,
// so the Service sends it no traffic (measured: every request to the Service, from inside the cluster, is
// answered by an original pod), the original Deployment is never written, and `nh down --duplicate` removes
// only one's own copy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { booking, kubectl, useNamespace, waitForDeployment } from '../support/cluster.js';
import { comparable, getObject, runNh } from '../support/nh.js';
import { repoRoot } from '../../support/paths.js';

const ns = useNamespace('kinds-duplicate');
const cwd = join(repoRoot, 'examples/booking');
const IDENTITIES = ['alice@e2e', 'bob@e2e'] as const;
const REQUESTS = 30;

interface StatusJson {
  services: { service: string; mode: string; owner: string | null; pod: string | null; ready: boolean; image: string | null }[];
}

const podNames = (selector: string) => kubectl(['-n', ns(), 'get', 'pods', '-l', selector, '-o', 'jsonpath={.items[*].metadata.name}']).stdout.trim().split(' ').filter(Boolean);

/** Hostnames that answered REQUESTS requests to the booking-api Service's cluster IP (no cluster DNS here), sent from the booking-web pod. */
function serviceAnswers(): string[] {
  const ip = kubectl(['-n', ns(), 'get', 'service', 'booking-api', '-o', 'jsonpath={.spec.clusterIP}']).stdout.trim();
  const script = `(async () => { for (let i = 0; i < ${REQUESTS}; i++) { const r = await fetch('http://${ip}:8080/'); console.log((await r.json()).hostname); } })()`;
  return kubectl(['-n', ns(), 'exec', 'deploy/booking-web', '--', 'node', '-e', script], { timeoutMs: 60_000 }).stdout.trim().split('\n');
}

test('two identities duplicate booking-api at once; the Service only ever reaches the original pods; down removes each copy', { timeout: 300_000 }, async () => {
  kubectl(['-n', ns(), 'apply', '-f', booking.manifests]);
  for (const name of booking.services) await waitForDeployment(ns(), name);
  const original = comparable(getObject(ns(), 'deployment', 'booking-api'));
  const originalPods = podNames('app=booking-api');

  for (const identity of IDENTITIES) {
    const up = await runNh(ns(), ['up', '--detach', '--duplicate', '--no-install', 'booking-api', '--timeout', '2m'], { cwd, identity });
    assert.equal(up.code, 0, up.stdout + up.stderr);
  }
  const copies = kubectl(['-n', ns(), 'get', 'deployments', '-l', 'nh.dev/copy', '-o', 'jsonpath={.items[*].metadata.name}']).stdout.trim().split(' ');
  assert.equal(copies.length, 2, `one copy per identity: ${copies.join(', ')}`);
  for (const identity of IDENTITIES) {
    const status = JSON.parse((await runNh(ns(), ['status', '--duplicate', '-o', 'json', 'booking-api'], { cwd, identity })).stdout) as StatusJson;
    assert.deepEqual(status.services.map((s) => [s.mode, s.owner, s.ready]), [['dev', identity, true]]);
    assert.match(status.services[0]!.image ?? '', /nh-dev-node/);
  }
  assert.deepEqual(comparable(getObject(ns(), 'deployment', 'booking-api')), original, 'the original Deployment is never written');

  const answers = serviceAnswers();
  assert.equal(answers.length, REQUESTS);
  const byOriginals = answers.filter((h) => originalPods.includes(h)).length;
  assert.equal(byOriginals, REQUESTS, `every request to the Service answered by an original pod (${byOriginals}/${REQUESTS}): ${[...new Set(answers)].join(', ')}`);

  const [alice, bob] = IDENTITIES;
  const down = await runNh(ns(), ['down', '--duplicate', 'booking-api'], { cwd, identity: alice });
  assert.equal(down.code, 0, down.stdout + down.stderr);
  const left = kubectl(['-n', ns(), 'get', 'deployments', '-l', 'nh.dev/copy', '-o', 'jsonpath={.items[*].metadata.name}']).stdout.trim().split(' ').filter(Boolean);
  assert.equal(left.length, 1, 'bob\'s copy is untouched');
  const bobStatus = JSON.parse((await runNh(ns(), ['status', '--duplicate', '-o', 'json', 'booking-api'], { cwd, identity: bob })).stdout) as StatusJson;
  assert.equal(bobStatus.services[0]!.ready, true);
  assert.equal((await runNh(ns(), ['down', '--duplicate', 'booking-api'], { cwd, identity: bob })).code, 0);
  assert.equal(kubectl(['-n', ns(), 'get', 'deployments', '-l', 'nh.dev/copy', '-o', 'name']).stdout.trim(), '');
  assert.deepEqual(comparable(getObject(ns(), 'deployment', 'booking-api')), original);
  assert.deepEqual(podNames('app=booking-api'), originalPods, 'the original pods were never replaced');
});
