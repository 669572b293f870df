// Acceptance tests of the local cluster (issue 3): a real kube-apiserver/etcd/controller-manager/scheduler/
// kubelet/containerd on loopback, driven through kubectl and @kubernetes/client-node.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { PassThrough, Writable } from 'node:stream';
import { Exec, PortForward, type V1Deployment, type V1Status } from '@kubernetes/client-node';
import {
  appsApi,
  booking,
  coreApi,
  httpGet,
  kubectl,
  kubectlPortForward,
  makeKubeConfig,
  useNamespace,
  waitFor,
  waitForDeployment,
} from './support/cluster.js';

const ns = useNamespace('cluster');
const kc = makeKubeConfig();
const core = coreApi(kc);
const apps = appsApi(kc);
const APP = 'pf-api';

/** The part of ws.WebSocket used here (its types are not a dependency of this project). */
interface MiniSocket {
  on(event: 'close', listener: () => void): void;
  close(): void;
}

function apiDeployment(name: string, replicas: number): V1Deployment {
  return {
    metadata: { name, labels: { app: name } },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          terminationGracePeriodSeconds: 2,
          containers: [
            {
              name: 'api',
              image: 'localhost/booking-api:1.0',
              imagePullPolicy: 'Never',
              ports: [{ containerPort: 8080 }],
              readinessProbe: { httpGet: { path: '/healthz', port: 8080 }, periodSeconds: 1 },
            },
          ],
        },
      },
    },
  };
}

async function readyPods(namespace: string, app: string): Promise<string[]> {
  const pods = await core.listNamespacedPod({ namespace, labelSelector: `app=${app}` });
  return pods.items
    .filter((p) => !p.metadata?.deletionTimestamp)
    .filter((p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'))
    .map((p) => p.metadata?.name ?? '')
    .sort();
}

test('the node is Ready and reports the built versions', async () => {
  const nodes = await core.listNode();
  assert.equal(nodes.items.length, 1);
  const node = nodes.items[0]!;
  const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
  assert.equal(ready?.status, 'True');
  assert.match(node.status?.nodeInfo?.kubeletVersion ?? '', /^v1\.\d+\.\d+$/);
  assert.match(node.status?.nodeInfo?.containerRuntimeVersion ?? '', /^containerd:\/\//);
});

test('a 2-replica Deployment of a booking production image becomes available', async () => {
  await apps.createNamespacedDeployment({ namespace: ns(), body: apiDeployment(APP, 2) });
  await waitForDeployment(ns(), APP, 120_000, kc);
  assert.equal((await readyPods(ns(), APP)).length, 2);
});

test('exec returns output through kubectl', async () => {
  const [pod] = await readyPods(ns(), APP);
  assert.ok(pod);
  const r = kubectl(['-n', ns(), 'exec', pod, '--', 'node', '-e', 'console.log("hello from " + process.env.HOSTNAME)']);
  assert.equal(r.stdout.trim(), `hello from ${pod}`);
  const sh = kubectl(['-n', ns(), 'exec', pod, '--', 'sh', '-c', 'echo $((6 * 7)); exit 3'], { allowFailure: true });
  assert.equal(sh.stdout.trim(), '42');
  assert.equal(sh.code, 3);
});

test('exec returns output and exit status through @kubernetes/client-node', async () => {
  const [pod] = await readyPods(ns(), APP);
  assert.ok(pod);
  const run = (command: string[]) =>
    new Promise<{ stdout: string; status: V1Status }>((resolve, reject) => {
      let stdout = '';
      const out = new Writable({
        write(chunk: Buffer, _enc, cb) {
          stdout += chunk.toString();
          cb();
        },
      });
      const timer = setTimeout(() => reject(new Error('exec: no status within 30 s')), 30_000);
      new Exec(kc)
        .exec(ns(), pod, 'api', command, out, null, null, false, (status) => {
          clearTimeout(timer);
          // the status arrives on channel 3 after stdout; give the writable a tick to flush
          setImmediate(() => resolve({ stdout, status }));
        })
        .then((ws) => {
          // (the ws types are not installed: use a minimal shape)
          (ws as unknown as MiniSocket).on('close', () => setTimeout(() => reject(new Error('exec socket closed without a status')), 1_000));
        })
        .catch((err: unknown) => {
          clearTimeout(timer);
          reject(err instanceof Error ? err : new Error(String((err as { message?: string }).message ?? err)));
        });
    });
  const ok = await run(['sh', '-c', 'echo client-node; cat /app/package.json']);
  assert.equal(ok.status.status, 'Success');
  assert.match(ok.stdout, /^client-node\n/);
  assert.match(ok.stdout, /"name": "booking-api"/);
  const failed = await run(['sh', '-c', 'exit 7']);
  assert.equal(failed.status.status, 'Failure');
  assert.equal(failed.status.details?.causes?.find((c) => c.reason === 'ExitCode')?.message, '7');
});

test('kubectl port-forward returns an HTTP response from a pod', async () => {
  const [pod] = await readyPods(ns(), APP);
  assert.ok(pod);
  const pf = await kubectlPortForward(ns(), `pod/${pod}`, 8080);
  try {
    const res = await httpGet(pf.localPort, '/');
    assert.equal(res.status, 200);
    const body = JSON.parse(res.body) as { service: string; version: string; hostname: string };
    assert.equal(body.service, 'booking-api');
    assert.equal(body.hostname, pod);
    assert.ok(body.version);
  } finally {
    pf.close();
  }
});

test('@kubernetes/client-node PortForward returns an HTTP response from a pod', async () => {
  const [pod] = await readyPods(ns(), APP);
  assert.ok(pod);
  const pf = new PortForward(kc);
  const errors: string[] = [];
  const server: Server = createServer((sock) => {
    sock.on('error', () => sock.destroy());
    const err = new PassThrough();
    err.on('data', (d: Buffer) => errors.push(d.toString()));
    pf.portForward(ns(), pod, [8080], sock, err, sock)
      .then((ws) => {
        if (typeof ws === 'function') return;
        const w = ws as unknown as MiniSocket;
        w.on('close', () => sock.destroy());
        sock.on('close', () => w.close());
      })
      .catch((e: unknown) => {
        errors.push(String((e as { message?: string }).message ?? e));
        sock.destroy();
      });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  try {
    const res = await fetch(`http://127.0.0.1:${port}/bookings`, { headers: { connection: 'close' }, signal: AbortSignal.timeout(10_000) });
    assert.equal(res.status, 200, errors.join('; '));
    const body = JSON.parse(await res.text()) as { service: string; bookings: unknown[] };
    assert.equal(body.service, 'booking-api');
    assert.ok(body.bookings.length > 0);
  } finally {
    server.close();
  }
});

test('pod logs are readable through kubectl and @kubernetes/client-node', async () => {
  const [pod] = await readyPods(ns(), APP);
  assert.ok(pod);
  const viaKubectl = kubectl(['-n', ns(), 'logs', pod]).stdout;
  assert.match(viaKubectl, /booking-api 1\.0\.0 listening on :8080/);
  const viaClient = await core.readNamespacedPodLog({ name: pod, namespace: ns(), container: 'api' });
  assert.match(viaClient, /booking-api 1\.0\.0 listening on :8080/);
});

test('a deleted pod is recreated by its ReplicaSet', async () => {
  const before = await readyPods(ns(), APP);
  assert.equal(before.length, 2);
  const victim = before[0]!;
  await core.deleteNamespacedPod({ name: victim, namespace: ns(), gracePeriodSeconds: 0 });
  const after = await waitFor('a replacement pod to be Ready', async () => {
    const now = await readyPods(ns(), APP);
    return now.length === 2 && !now.includes(victim) ? now : undefined;
  }, 90_000);
  assert.ok(after.includes(before[1]!));
  const rs = await apps.listNamespacedReplicaSet({ namespace: ns(), labelSelector: `app=${APP}` });
  assert.equal(rs.items.length, 1);
  const recreated = after.find((p) => p !== before[1]);
  const pod = await core.readNamespacedPod({ name: recreated!, namespace: ns() });
  assert.equal(pod.metadata?.ownerReferences?.[0]?.kind, 'ReplicaSet');
  assert.equal(pod.metadata?.ownerReferences?.[0]?.name, rs.items[0]?.metadata?.name);
});

test('the booking example deploys and serves HTTP through port-forwards', async () => {
  kubectl(['-n', ns(), 'apply', '-f', booking.manifests]);
  for (const name of booking.services) await waitForDeployment(ns(), name, 120_000, kc);
  for (const name of booking.services) {
    const target = name === 'booking-web' ? `svc/${name}` : `deploy/${name}`;
    const pf = await kubectlPortForward(ns(), target, 8080);
    try {
      const root = await httpGet(pf.localPort, '/');
      assert.equal(root.status, 200);
      const body = JSON.parse(root.body) as { service: string; version: string; api?: { service?: string } };
      assert.equal(body.service, name);
      assert.equal(body.version, '1.0.0');
      // api.yaml is applied before web.yaml, so web's pod has BOOKING_API_SERVICE_HOST and calls it through
      // kube-proxy (which programs new endpoints asynchronously, about a second after they are ready)
      if (name === 'booking-web') {
        const chained = await waitFor('booking-web to reach booking-api through its Service', async () => {
          const r = JSON.parse((await httpGet(pf.localPort, '/')).body) as { api?: { service?: string } };
          return r.api?.service === 'booking-api' ? r : undefined;
        }, 20_000, 500);
        assert.equal(chained.api?.service, 'booking-api');
      }
      const health = await httpGet(pf.localPort, '/healthz');
      assert.equal(health.status, 200);
      assert.equal(health.body.trim(), 'ok');
    } finally {
      pf.close();
    }
  }
});

test('Service ClusterIPs route to pods (kube-proxy)', async () => {
  const svc = await core.readNamespacedService({ name: 'booking-inventory', namespace: ns() });
  const ip = svc.spec?.clusterIP;
  assert.ok(ip);
  const out = await waitFor('booking-inventory through its ClusterIP', () => {
    const r = kubectl(['-n', ns(), 'exec', 'deploy/booking-web', '--', 'wget', '-qO-', `http://${ip}:8080/rooms`], { allowFailure: true });
    return r.code === 0 ? r.stdout : undefined;
  }, 20_000, 500);
  assert.equal((JSON.parse(out) as { service: string }).service, 'booking-inventory');
});
