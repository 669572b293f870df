// Two nodes on one machine (scripts/cluster/node.sh): a pod on each, exec, logs and port-forward through the
// second kubelet, pod-to-pod traffic both ways across the two pod ranges; `nh up` of a service whose dev pod runs
// on node 2 (sync, hot reload, a forward, `nh exec`); a DaemonSet on both nodes held off one node only and given
// back exactly, also after a SIGKILL mid-`up`; a dev pod that follows its data to node 2, away from the node its
// workload ran on, and one that cannot (its workload pinned to node 1): nh says why and restores it. Brings
// node 2 up when it is not running and takes it down again afterwards (also when a test fails; a node 2 left by a
// run that was killed is taken down by the next run), so the cluster is left as it was found.
// Node 2 is tainted (NoSchedule): only this file's pods tolerate it, so the other e2e files can run beside it.
//   npm run build && flock -s /tmp/nh-cluster.lock node --enable-source-maps --test dist/test/e2e/multinode/two-nodes.test.js
// (on a cluster shared with other people's test runs whose tests do not know the taint yet, take -x instead).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { hostname } from 'node:os';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { clusterRoot, ensureCluster, EXTRA_NODE_TOLERATION, httpGet, kubeconfigPath, kubectl, kubectlPortForward, runClusterScript, useNamespace, waitFor, waitForDeployment } from '../support/cluster.js';
import { comparable, freePort, getObject, idleDeployment, projectWith, runNh, servedBody, spawnNh } from '../support/nh.js';
import { agentDaemonSet, crashThenRestore, kindProject, upSyncDown, type KindCase } from '../devmode/kinds-support.js';

const NODE1 = hostname();
const NODE2 = `${NODE1}-2`;
const namespace = useNamespace('multinode');
let startedNode2 = false;
/** The pid of the test process that started node 2, so that a node 2 left by a killed run is removed by the next one. */
const starterFile = join(clusterRoot, 'node2.started-by-test');

function startedByDeadRun(): boolean {
  try {
    process.kill(Number(readFileSync(starterFile, 'utf8')), 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

before(async () => {
  await ensureCluster();
  const running = (await runClusterScript('node.sh', ['status', '2'])).code === 0;
  if (running && !startedByDeadRun()) return; // someone's node 2 (NH_CLUSTER_NODES=2): used, and left as it is
  startedNode2 = true;
  writeFileSync(starterFile, String(process.pid));
  if (!running) {
    const up = await runClusterScript('node.sh', ['up', '2']);
    assert.equal(up.code, 0, 'node.sh up 2');
  }
});

after(async () => {
  if (!startedNode2) return;
  // The namespace (and so this file's pods) is deleted by useNamespace's hook; node.sh down deletes what is left on node 2.
  const down = await runClusterScript('node.sh', ['down', '2']);
  assert.equal(down.code, 0, 'node.sh down 2');
  rmSync(starterFile, { force: true });
});

interface PodJson {
  metadata: { name: string; uid: string; labels?: Record<string, string>; ownerReferences?: unknown[]; deletionTimestamp?: string };
  spec: { nodeName?: string; volumes?: { name: string }[]; containers: { volumeMounts?: { name: string }[] }[] };
  status: { podIP?: string; conditions?: { type: string; status: string }[]; containerStatuses?: { restartCount: number }[] };
}

const podsOf = (selector: string) => (JSON.parse(kubectl(['-n', namespace(), 'get', 'pods', '-l', selector, '-o', 'json']).stdout) as { items: PodJson[] }).items;
const isReady = (p: PodJson) => !p.metadata.deletionTimestamp && Boolean(p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));

/** The inventory server (Go, port 8080, busybox inside) pinned to a node. */
function pinnedPod(name: string, node: string): string {
  return `apiVersion: v1
kind: Pod
metadata: {name: ${name}, labels: {app: ${name}}}
spec:
  nodeSelector: {kubernetes.io/hostname: ${node}}
  tolerations: [${EXTRA_NODE_TOLERATION}]
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: localhost/booking-inventory:1.0
    imagePullPolicy: IfNotPresent
    ports: [{containerPort: 8080}]
`;
}

function podInfo(name: string): { node: string; ip: string } {
  const pod = JSON.parse(kubectl(['-n', namespace(), 'get', 'pod', name, '-o', 'json']).stdout) as PodJson;
  return { node: pod.spec.nodeName ?? '', ip: pod.status.podIP ?? '' };
}

test('node 2 is tainted: a pod that does not tolerate it stays off it', { timeout: 60_000 }, async () => {
  const taints = JSON.parse(kubectl(['get', 'node', NODE2, '-o', 'jsonpath={.spec.taints}']).stdout) as { key: string; effect: string }[];
  assert.deepEqual(taints.map((t) => [t.key, t.effect]), [['nh-cluster/extra-node', 'NoSchedule']]);
  kubectl(['-n', namespace(), 'run', 'untolerated', '--image=localhost/nh-dev-min:1', '--image-pull-policy=Never', `--overrides={"spec":{"nodeSelector":{"kubernetes.io/hostname":"${NODE2}"}}}`, '--', 'sleep', '3600']);
  await waitFor('the scheduler to turn the pod down', () => {
    const [pod] = podsOf('run=untolerated');
    return pod?.status.conditions?.some((c) => c.type === 'PodScheduled' && c.status === 'False') ?? false;
  }, 30_000);
  kubectl(['-n', namespace(), 'delete', 'pod', 'untolerated', '--wait=false']);
});

test('a pod on each node; exec, logs and port-forward through the second kubelet; pods reach each other across the nodes', { timeout: 300_000 }, async () => {
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

  // Through the host's routes between the two bridges, both ways. The images' busybox (Debian's 1.35) is built
  // without wget's -T: that option writes through a null pointer (exit 139), so `timeout` bounds the request.
  for (const [from, to] of [['on-node1', two], ['on-node2', one]] as const) {
    const answer = kubectl(['-n', namespace(), 'exec', from, '--', 'timeout', '10', 'wget', '-qO-', `http://${to.ip}:8080/`]).stdout;
    assert.match(answer, /booking-inventory/, `${from} → ${to.ip}`);
  }
});

const server = (body: string) => `require('http').createServer((req, res) => res.end(${JSON.stringify(body)})).listen(8080);\nprocess.on('SIGTERM', () => process.exit(0));\n`;

function exited(child: ChildProcess): Promise<number | null> {
  return child.exitCode !== null ? Promise.resolve(child.exitCode) : new Promise((resolve) => child.once('exit', resolve));
}

test('nh up: the dev pod runs on node 2, with sync, hot reload, a forward and nh exec', { timeout: 420_000 }, async () => {
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
    await waitFor('far v1 through the forward', async () => (await servedBody(port)) === 'far v1', 240_000, 250);
    const dev = podsOf('app=far,nh.dev/mode=dev');
    assert.deepEqual(dev.map((p) => p.spec.nodeName), [NODE2]);
    const exec = await runNh(namespace(), ['exec', 'far', '--kubeconfig', kubeconfigPath, '-n', namespace(), '--', 'sh', '-c', 'cat /proc/sys/kernel/hostname; head -c 40 server.js'], { cwd: project });
    assert.equal(exec.code, 0, exec.stdout + exec.stderr);
    assert.equal(exec.stdout, `${dev[0]!.metadata.name}\n${server('far v1').slice(0, 40)}`, 'nh exec runs in the dev container on node 2, in its workDir');
    writeFileSync(join(project, 'server.js'), server('far v2'));
    await waitFor('far v2 after the edit', async () => (await servedBody(port)) === 'far v2', 60_000, 100);
  } finally {
    nh.kill('SIGINT');
    await exited(nh);
  }
  const down = await runNh(namespace(), ['down'], { cwd: project });
  assert.equal(down.code, 0, down.stdout + down.stderr + output);
});

/** The DaemonSet's own ready pods (not its dev pod), by node. */
function daemonPods(): Map<string, PodJson> {
  const own = podsOf('app=agent').filter((p) => !p.metadata.labels?.['nh.dev/mode'] && isReady(p));
  return new Map(own.map((p) => [p.spec.nodeName ?? '?', p]));
}

/**
 * What a DaemonSet pod must keep across dev mode: its node, owner, labels and spec, but not what differs between
 * two pods of the same template (the generated service-account token volume's name, and pod-template-generation,
 * which counts template changes, dev mode's two included).
 */
function podShape(pod: PodJson): unknown {
  const { 'pod-template-generation': _generation, ...labels } = pod.metadata.labels ?? {};
  const isToken = (name: string) => name.startsWith('kube-api-access-');
  const spec = structuredClone(pod.spec);
  spec.volumes = spec.volumes?.filter((v) => !isToken(v.name));
  for (const c of spec.containers) c.volumeMounts = c.volumeMounts?.filter((m) => !isToken(m.name));
  return { node: pod.spec.nodeName, owner: pod.metadata.ownerReferences, labels, spec };
}

test('DaemonSet on two nodes: up holds it off one node only, the other node\'s pod untouched; down gives back both exactly, also after a SIGKILL mid-up', { timeout: 600_000 }, async () => {
  kubectl(['-n', namespace(), 'apply', '-f', '-'], { input: agentDaemonSet({ tolerateExtraNodes: true }) });
  await waitFor('agent on both nodes', () => daemonPods().size === 2, 120_000);
  const original = daemonPods();
  assert.deepEqual([...original.keys()].sort(), [NODE1, NODE2].sort());
  const devNode = [...original.keys()].sort()[0]!;
  const otherNode = [...original.keys()].sort()[1]!;
  const untouched = original.get(otherNode)!;
  /** The other node's pod: the same pod (uid) as before dev mode, never restarted. */
  const stillUntouched = (when: string) => {
    const now = daemonPods().get(otherNode);
    assert.equal(now?.metadata.uid, untouched.metadata.uid, `the pod on ${otherNode} is the same pod ${when}`);
    assert.equal(now?.status.containerStatuses?.[0]?.restartCount, 0, `the pod on ${otherNode} never restarted ${when}`);
  };
  const ds: KindCase = {
    serviceType: 'daemonset', name: 'agent', namespace,
    snapshot: () => ({
      daemonSet: comparable(getObject(namespace(), 'daemonset', 'agent')),
      pods: [...daemonPods().values()].map(podShape).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
    }),
    inDevMode: async () => {
      const now = daemonPods();
      assert.deepEqual([...now.keys()], [otherNode], `the DaemonSet's pod is gone from ${devNode} only`);
      stillUntouched('in dev mode');
      const dev = podsOf('app=agent,nh.dev/mode=dev').filter(isReady);
      assert.deepEqual(dev.map((p) => p.spec.nodeName), [devNode], 'the dev pod runs on the node the DaemonSet left');
    },
    settled: async () => {
      await waitFor('agent back on both nodes', () => daemonPods().size === 2, 120_000);
      stillUntouched('after nh down');
    },
  };
  const project = kindProject(ds);
  await upSyncDown(ds, project);
  await crashThenRestore(ds, project);
});

/** Local PersistentVolumes on node 2, each of a storage class only its test uses: a claim bound to one puts its pod on node 2. */
const dataVolumes: string[] = [];
const volumeDir = (storageClass: string) => join(clusterRoot, 'e2e-volumes', storageClass);

after(() => {
  for (const storageClass of dataVolumes) {
    kubectl(['delete', 'pv', storageClass, '--ignore-not-found', '--wait=false'], { allowFailure: true });
    rmSync(volumeDir(storageClass), { recursive: true, force: true });
  }
});

/** A local volume on node 2 holding the given files; returns its storage class (also the volume's name). */
function localVolumeOnNode2(files: Readonly<Record<string, string>>): string {
  const storageClass = `nh-e2e-node2-data-${process.pid}-${dataVolumes.length}`;
  dataVolumes.push(storageClass);
  mkdirSync(volumeDir(storageClass), { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(volumeDir(storageClass), name), text);
  kubectl(['apply', '-f', '-'], {
    input: JSON.stringify({
      apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name: storageClass },
      spec: {
        storageClassName: storageClass, capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], persistentVolumeReclaimPolicy: 'Retain',
        local: { path: volumeDir(storageClass) },
        nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [NODE2] }] }] } },
      },
    }),
  });
  return storageClass;
}

/** A project whose one service keeps /data of its dev container on a claim of the given class. */
function dataProject(service: string, storageClass: string): string {
  const project = projectWith([
    'configProperties: {version: v2}',
    'application:',
    '  services:',
    `    - name: ${service}`,
    '      containers:',
    `        - dev: {image: "localhost/nh-dev-min:1", imagePullPolicy: Never, workDir: /work, storageClass: ${storageClass}, persistentVolumeDirs: [{path: /data, capacity: 100Mi}]}`,
    '',
  ].join('\n'));
  writeFileSync(join(project, 'hello.txt'), 'synced to node 2\n');
  return project;
}

test('a dev pod follows its data to node 2, away from the node its workload ran on; down brings the workload back', { timeout: 420_000 }, async () => {
  const storageClass = localVolumeOnNode2({ 'kept.txt': 'written on node 2 before nh up\n' });
  // Node 1 preferred: the workload runs there; the dev pod may run on either node, and its claim decides.
  kubectl(['-n', namespace(), 'apply', '-f', '-'], { input: idleDeployment('store', { preferNode: NODE1 }) });
  await waitForDeployment(namespace(), 'store');
  assert.deepEqual(podsOf('app=store').map((p) => p.spec.nodeName), [NODE1], 'the workload runs on node 1');
  const before = comparable(getObject(namespace(), 'deployment', 'store'));
  const project = dataProject('store', storageClass);

  const up = await runNh(namespace(), ['up', '--detach', '--timeout', '2m'], { cwd: project });
  assert.equal(up.code, 0, up.stdout + up.stderr);
  const dev = podsOf('app=store,nh.dev/mode=dev').filter(isReady);
  assert.deepEqual(dev.map((p) => p.spec.nodeName), [NODE2], 'the dev pod runs where its claim\'s volume is');
  const sync = await runNh(namespace(), ['sync', 'store'], { cwd: project });
  assert.equal(sync.code, 0, sync.stdout + sync.stderr);
  const exec = await runNh(namespace(), ['exec', 'store', '--kubeconfig', kubeconfigPath, '-n', namespace(), '--', 'sh', '-c', 'cat /data/kept.txt hello.txt'], { cwd: project });
  assert.equal(exec.stdout, 'written on node 2 before nh up\nsynced to node 2\n', `the data and the synced source in the dev pod on node 2\n${exec.stderr}`);

  const down = await runNh(namespace(), ['down', '--timeout', '2m'], { cwd: project });
  assert.equal(down.code, 0, down.stdout + down.stderr);
  assert.deepEqual(comparable(getObject(namespace(), 'deployment', 'store')), before, 'the Deployment restored exactly');
  await waitFor('the store pod back on node 1', () => {
    const pods = podsOf('app=store').filter((p) => !p.metadata.deletionTimestamp);
    return pods.length === 1 && isReady(pods[0]!) && pods[0]!.spec.nodeName === NODE1;
  }, 120_000);
});

test('a dev pod whose data is on node 2 while its workload may run on node 1 only: nh up says why and restores the workload', { timeout: 300_000 }, async () => {
  const storageClass = localVolumeOnNode2({});
  kubectl(['-n', namespace(), 'apply', '-f', '-'], { input: idleDeployment('pinned', { node: NODE1 }) });
  await waitForDeployment(namespace(), 'pinned');
  const before = comparable(getObject(namespace(), 'deployment', 'pinned'));

  const up = await runNh(namespace(), ['up', '--detach', '--timeout', '20s'], { cwd: dataProject('pinned', storageClass) });
  const output = up.stdout + up.stderr;
  assert.equal(up.code, 1, output);
  assert.match(output, /cannot be scheduled \(Unschedulable\): .*didn't match PersistentVolume's node affinity/, 'the scheduler\'s reason');
  assert.match(output, /a claim of the dev pod is bound to a volume on a node the pod may not run on/, 'the hint');
  assert.doesNotMatch(up.stderr, /\n\s+at /, 'no stack trace');
  assert.deepEqual(comparable(getObject(namespace(), 'deployment', 'pinned')), before, 'the Deployment restored exactly');
  await waitFor('the workload\'s own pod running on node 1, no dev pod', () => {
    const pods = podsOf('app=pinned').filter((p) => !p.metadata.deletionTimestamp);
    return pods.length === 1 && !pods[0]!.metadata.labels?.['nh.dev/mode'] && isReady(pods[0]!) && pods[0]!.spec.nodeName === NODE1;
  }, 120_000);
});
