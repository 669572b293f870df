// Bare Pods and DaemonSets in dev mode. A bare Pod is replaced by its dev copy and re-created exactly from
// the saved spec by `nh down`; a Pod with an owner is refused, nothing changed. A DaemonSet is kept off one
// node (the dev pod's) and keeps its pods on every other node, untouched; `nh down` gives it back its pods on
// every node it had: here the nodes without a taint (the local cluster's second node is tainted; a DaemonSet on two
// nodes is tested in test/e2e/multinode/two-nodes.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { kubectl, useNamespace, waitFor } from '../support/cluster.js';
import { comparable, getObject, runNh } from '../support/nh.js';
import { agentDaemonSet, crashThenRestore, kindProject, POD, upSyncDown, type KindCase } from './kinds-support.js';

const ns = useNamespace('kinds-pods');

interface PodJson {
  metadata: { name: string; uid: string; labels?: Record<string, string>; annotations?: Record<string, string>; deletionTimestamp?: string };
  spec: { nodeName?: string };
  status: { phase?: string; conditions?: { type: string; status: string }[] };
}

const podsOf = (selector: string) => (JSON.parse(kubectl(['-n', ns(), 'get', 'pods', '-l', selector, '-o', 'json']).stdout) as { items: PodJson[] }).items;
const isReady = (p: PodJson) => !p.metadata.deletionTimestamp && Boolean(p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
/** Nodes a pod without tolerations can run on: a second node of the local cluster is tainted (it is the multi-node tests'). */
const nodeCount = () => (JSON.parse(kubectl(['get', 'nodes', '-o', 'json']).stdout) as { items: { spec: { taints?: { effect: string }[] } }[] }).items
  .filter((n) => !(n.spec.taints ?? []).some((t) => t.effect === 'NoSchedule' || t.effect === 'NoExecute')).length;

async function podReady(name: string): Promise<void> {
  await waitFor(`pod ${name} ready`, () => podsOf('app=scratch').some((p) => p.metadata.name === name && isReady(p)), 120_000);
}

/** The DaemonSet's own pods, by node: uid per node, ready ones only. */
function daemonPods(): Map<string, string> {
  return new Map(podsOf('app=agent').filter((p) => !p.metadata.labels?.['nh.dev/mode'] && isReady(p)).map((p) => [p.spec.nodeName ?? '?', p.metadata.uid]));
}

test('a Pod with an owner is refused at plan time with its owner named, nothing changed', { timeout: 120_000 }, async () => {
  kubectl(['-n', ns(), 'create', 'deployment', 'owned', '--image=localhost/nh-dev-min:1', '--', 'sleep', '3600']);
  const name = await waitFor('the owned pod', () => podsOf('app=owned')[0]?.metadata.name, 60_000);
  const before = comparable(getObject(ns(), 'pod', name));
  const project = kindProject({ serviceType: 'pod', name });
  const up = await runNh(ns(), ['up', '--detach'], { cwd: project });
  assert.equal(up.code, 1);
  assert.match(up.stdout + up.stderr, new RegExp(`Pod \`${name}\` belongs to ReplicaSet \`owned-[a-z0-9]+\``));
  assert.doesNotMatch(up.stderr, /\n\s+at /, 'no stack trace');
  assert.deepEqual(comparable(getObject(ns(), 'pod', name)), before, 'nothing changed');
  assert.equal(kubectl(['-n', ns(), 'get', 'deployments', '-l', 'nh.dev/copy', '-o', 'name']).stdout.trim(), '');
});

test('DaemonSet: dev pod on one node, its pods on every other node untouched; down gives back its pods on every node it had', { timeout: 300_000 }, async () => {
  kubectl(['-n', ns(), 'apply', '-f', '-'], { input: agentDaemonSet() });
  const nodes = nodeCount();
  await waitFor(`agent on all ${nodes} nodes`, () => daemonPods().size === nodes, 120_000);
  const original = daemonPods();
  const devNode = [...original.keys()].sort()[0]!;
  const ds: KindCase = {
    serviceType: 'daemonset', name: 'agent', namespace: ns,
    snapshot: () => ({ daemonSet: comparable(getObject(ns(), 'daemonset', 'agent')), nodes: [...daemonPods().keys()].sort() }),
    inDevMode: async () => {
      const now = daemonPods();
      assert.equal(now.has(devNode), false, `no DaemonSet pod on ${devNode}, the dev pod's node`);
      for (const [node, uid] of original) if (node !== devNode) assert.equal(now.get(node), uid, `the pod on ${node} still runs, not restarted`);
      const dev = podsOf('app=agent,nh.dev/mode=dev').filter(isReady);
      assert.deepEqual(dev.map((p) => p.spec.nodeName), [devNode], 'the dev pod runs on that node');
    },
    settled: () => waitFor(`agent back on all ${nodes} nodes`, () => daemonPods().size === nodes, 120_000).then(() => undefined),
  };
  const project = kindProject(ds);
  await upSyncDown(ds, project);
  await crashThenRestore(ds, project);
});

/** The bare Pod case: the Pod deployed and ready, and how to compare it. */
async function barePod(): Promise<{ pod: KindCase; project: string }> {
  kubectl(['-n', ns(), 'apply', '-f', '-'], { input: POD });
  await podReady('scratch');
  const pod: KindCase = {
    serviceType: 'pod', name: 'scratch', namespace: ns,
    snapshot: () => {
      const { metadata, spec } = getObject(ns(), 'pod', 'scratch') as unknown as PodJson;
      return { name: metadata.name, labels: metadata.labels, annotations: metadata.annotations, spec };
    },
    inDevMode: async () => {
      assert.equal(kubectl(['-n', ns(), 'get', 'pod', 'scratch', '--ignore-not-found', '-o', 'name']).stdout.trim(), '', 'the original Pod is replaced');
      assert.equal(podsOf('app=scratch').filter(isReady).length, 1, 'its dev copy carries its labels: Services select it');
    },
    settled: () => podReady('scratch'),
  };
  return { pod, project: kindProject(pod) };
}

test('bare Pod: replaced by its dev copy, re-created exactly from the saved spec by down', { timeout: 300_000 }, async () => {
  const { pod, project } = await barePod();
  await upSyncDown(pod, project);
});

test('bare Pod: after a SIGKILL of nh up mid-way, up converges and down restores exactly', { timeout: 300_000 }, async () => {
  const { pod, project } = await barePod();
  await crashThenRestore(pod, project);
});
