// Two nodes on one machine (scripts/cluster/node.sh): a pod on each, exec, logs and port-forward through the
// second kubelet, pod-to-pod traffic both ways across the two pod ranges, and `nh up` of a service whose dev pod
// runs on node 2, with sync, hot reload and a forward. Brings node 2 up when it is not running and takes it down
// again afterwards, so the cluster is left as it was found.
// Node 2 is an ordinary node: other tests' pods could land on it while it is up, so this file runs only with
// NH_MULTINODE=1 under the cluster's exclusive lock:
//   NH_MULTINODE=1 flock -x /tmp/nh-cluster.lock node --enable-source-maps --test dist/test/e2e/multinode/two-nodes.test.js
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { hostname } from 'node:os';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureCluster, httpGet, kubectl, kubectlPortForward, runClusterScript, useNamespace, waitFor } from '../support/cluster.js';
import { freePort, idleDeployment, projectWith, runNh, spawnNh } from '../support/nh.js';

const skip = process.env['NH_MULTINODE'] === '1' ? false : 'starts a second node: run with NH_MULTINODE=1 under flock -x /tmp/nh-cluster.lock';
const NODE1 = hostname();
const NODE2 = `${NODE1}-2`;
const namespace = useNamespace('multinode');
let startedNode2 = false;

before(async () => {
  if (skip) return;
  await ensureCluster();
  if ((await runClusterScript('node.sh', ['status', '2'])).code !== 0) {
    startedNode2 = true;
    const up = await runClusterScript('node.sh', ['up', '2']);
    assert.equal(up.code, 0, 'node.sh up 2');
  }
});

after(async () => {
  if (!startedNode2) return;
  // The namespace (and so this file's pods) is deleted by useNamespace's hook; node.sh down deletes what is left on node 2.
  const down = await runClusterScript('node.sh', ['down', '2']);
  assert.equal(down.code, 0, 'node.sh down 2');
});

/** The inventory server (Go, port 8080, busybox inside) pinned to a node. */
function pinnedPod(name: string, node: string): string {
  return `apiVersion: v1
kind: Pod
metadata: {name: ${name}, labels: {app: ${name}}}
spec:
  nodeSelector: {kubernetes.io/hostname: ${node}}
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: localhost/booking-inventory:1.0
    imagePullPolicy: IfNotPresent
    ports: [{containerPort: 8080}]
`;
}

function podInfo(name: string): { node: string; ip: string } {
  const pod = JSON.parse(kubectl(['-n', namespace(), 'get', 'pod', name, '-o', 'json']).stdout) as { spec: { nodeName: string }; status: { podIP: string } };
  return { node: pod.spec.nodeName, ip: pod.status.podIP };
}

test('a pod on each node; exec, logs and port-forward through the second kubelet; pods reach each other across the nodes', { skip }, async () => {
  kubectl(['-n', namespace(), 'apply', '-f', '-'], { input: `${pinnedPod('on-node1', NODE1)}---\n${pinnedPod('on-node2', NODE2)}` });
  kubectl(['-n', namespace(), 'wait', '--for=condition=Ready', 'pod/on-node1', 'pod/on-node2', '--timeout=180s'], { timeoutMs: 200_000 });
  const [one, two] = [podInfo('on-node1'), podInfo('on-node2')];
  assert.deepEqual([one.node, two.node], [NODE1, NODE2]);
  assert.match(one.ip, /^10\.213\.0\./);
  assert.match(two.ip, /^10\.213\.1\./);

  assert.equal(kubectl(['-n', namespace(), 'exec', 'on-node2', '--', 'cat', '/proc/sys/kernel/hostname']).stdout.trim(), 'on-node2');
  await waitFor('a log line of the pod on node 2', () => kubectl(['-n', namespace(), 'logs', 'on-node2']).stdout.trim() !== '' || undefined, 30_000);
  const forward = await kubectlPortForward(namespace(), 'pod/on-node2', 8080);
  try {
    const res = await httpGet(forward.localPort);
    assert.equal(res.status, 200);
    assert.match(res.body, /"hostname":"on-node2"/);
  } finally {
    forward.close();
  }

  // Through the host's routes between the two bridges, both ways.
  for (const [from, to] of [['on-node1', two], ['on-node2', one]] as const) {
    const answer = kubectl(['-n', namespace(), 'exec', from, '--', 'wget', '-qO-', '-T', '5', `http://${to.ip}:8080/`]).stdout;
    assert.match(answer, /booking-inventory/, `${from} → ${to.ip}`);
  }
});

const server = (body: string) => `require('http').createServer((req, res) => res.end(${JSON.stringify(body)})).listen(8080);\nprocess.on('SIGTERM', () => process.exit(0));\n`;

function exited(child: ChildProcess): Promise<number | null> {
  return child.exitCode !== null ? Promise.resolve(child.exitCode) : new Promise((resolve) => child.once('exit', resolve));
}

async function body(port: number): Promise<string | undefined> {
  try {
    return await (await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(3_000) })).text();
  } catch {
    return undefined;
  }
}

test('nh up: the dev pod runs on node 2, with sync, hot reload and a forward', { skip }, async () => {
  kubectl(['-n', namespace(), 'apply', '-f', '-'], { input: idleDeployment('far', { node: NODE2 }) });
  const port = await freePort();
  const project = projectWith(`name: far
containers:
  - name: app
    dev:
      image: localhost/nh-dev-node:20
      imagePullPolicy: IfNotPresent
      workDir: /app
      command: {run: [node, server.js]}
      hotReload: true
      portForward: ["${port}:8080"]
`);
  writeFileSync(join(project, 'server.js'), server('far v1'));
  const nh = spawnNh(namespace(), ['up'], { cwd: project });
  let output = '';
  nh.stdout!.setEncoding('utf8').on('data', (d: string) => (output += d));
  nh.stderr!.setEncoding('utf8').on('data', (d: string) => (output += d));
  try {
    await waitFor('far v1 through the forward', async () => (await body(port)) === 'far v1', 240_000, 250);
    const pods = JSON.parse(kubectl(['-n', namespace(), 'get', 'pods', '-l', 'app=far,nh.dev/mode=dev', '-o', 'json']).stdout) as { items: { spec: { nodeName: string } }[] };
    assert.deepEqual(pods.items.map((p) => p.spec.nodeName), [NODE2]);
    writeFileSync(join(project, 'server.js'), server('far v2'));
    await waitFor('far v2 after the edit', async () => (await body(port)) === 'far v2', 60_000, 100);
  } finally {
    nh.kill('SIGINT');
    await exited(nh);
  }
  const down = await runNh(namespace(), ['down'], { cwd: project });
  assert.equal(down.code, 0, down.stdout + down.stderr + output);
});
