// nh's forward over one SPDY session per pod, against the real cluster: 100 connections at once on one
// session, 50 MB each way intact, the pod replaced mid-session, the kubelet's "connection refused" told apart
// without losing the session, bytes sent to a refused port not stalling later connections, and the WebSocket
// fallback when the SPDY upgrade is refused.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import type { ExecEndpoint } from '../../../src/kube/exec.js';
import { createExecEndpoint, createKubeClient } from '../../../src/kube/node-client.js';
import { PodTracker } from '../../../src/kube/pod-tracker.js';
import { startPortForward, type ForwardState, type PortForward } from '../../../src/forward/port-forward.js';
import { TunnelPool } from '../../../src/forward/tunnel-pool.js';
import { ApiGate } from '../support/api-gate.js';
import { kubeconfigPath, kubectl, useNamespace, waitFor } from '../support/cluster.js';
import { freePort } from '../support/nh.js';

const namespace = useNamespace('tunnel-spdy');

/** Says its pod's name, then echoes every byte back; half-close passes through; a reset connection is no crash. */
const ECHO_SERVER = `require('net').createServer({ allowHalfOpen: true }, (s) => { s.on('error', () => {}); s.write(require('os').hostname() + '\\n'); s.pipe(s); }).listen(8080, () => console.log('listening'));`;

const deployment = JSON.stringify({
  apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'echo' },
  spec: {
    replicas: 1, strategy: { type: 'Recreate' }, selector: { matchLabels: { app: 'echo' } },
    template: {
      metadata: { labels: { app: 'echo' } },
      spec: {
        terminationGracePeriodSeconds: 1,
        containers: [{
          name: 'echo', image: 'localhost/nh-dev-node:20', imagePullPolicy: 'IfNotPresent', command: ['node', '-e', ECHO_SERVER],
          readinessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 1 },
        }],
      },
    },
  },
});

/** Counts the connections opened to the API server for tunnels (each asks for the TLS options once). */
function counting(endpoint: ExecEndpoint): ExecEndpoint & { readonly opened: () => number } {
  let opened = 0;
  return { server: endpoint.server, applyToHTTPSOptions: (options) => (opened++, endpoint.applyToHTTPSOptions(options)), opened: () => opened };
}

/** Connects, sends `payload` and half-closes; the pod's name and everything echoed back. */
function exchange(port: number, payload: Buffer): Promise<{ pod: string; echoed: Buffer }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('end', () => {
      const all = Buffer.concat(chunks);
      const newline = all.indexOf(0x0a);
      if (newline < 0) return reject(new Error(`no greeting in ${all.length} bytes`));
      resolve({ pod: all.subarray(0, newline).toString(), echoed: all.subarray(newline + 1) });
      socket.destroy();
    });
    socket.on('connect', () => socket.end(payload));
  });
}

/** Without half-close (the WebSocket tunnel has none): sends `text`, waits for its echo, then disconnects. */
function roundTrip(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1' }, () => socket.write(text));
    let received = '';
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString();
      const echoed = received.slice(received.indexOf('\n') + 1);
      if (received.includes('\n') && echoed.length >= text.length) {
        socket.destroy();
        resolve(echoed);
      }
    });
    socket.on('error', reject);
    socket.on('close', () => reject(new Error(`closed after ${JSON.stringify(received)}`)));
  });
}

const sha = (data: Buffer) => createHash('sha256').update(data).digest('hex');

let controller: AbortController;
let endpoint: ReturnType<typeof counting>;
let pods: PodTracker;
let forward: PortForward;
let refusedStates: ForwardState[];
let refused: PortForward;

/** The echo app, its tracker and two forwards sharing one pool: set up by the first test (namespace hooks run first). */
let ready: Promise<void> | undefined;
const setUp = () => (ready ??= setUpOnce());
async function setUpOnce(): Promise<void> {
  kubectl(['-n', namespace(), 'apply', '-f', '-'], { input: deployment });
  kubectl(['-n', namespace(), 'rollout', 'status', 'deploy/echo', '--timeout=180s'], { timeoutMs: 200_000 });
  const options = { kubeconfig: kubeconfigPath, context: undefined, namespace: namespace(), env: process.env };
  const kube = await createKubeClient(options);
  const plain = await createExecEndpoint(options);
  // Only the pool's connections are counted: the forwards' health probes are execs of their own.
  endpoint = counting(plain);
  controller = new AbortController();
  pods = new PodTracker(kube, namespace(), 'app=echo');
  void pods.run(controller.signal);
  await waitFor('the echo pod tracked', () => pods.current(), 60_000);
  const tunnels = new TunnelPool(endpoint, controller.signal);
  forward = await startPortForward({ endpoint: plain, pods, local: await freePort(), remote: 8080, signal: controller.signal, tunnels, onState: (s) => process.env.NH_DEBUG_FORWARD && console.log('forward', s) });
  refusedStates = [];
  refused = await startPortForward({ endpoint: plain, pods, local: await freePort(), remote: 9999, signal: controller.signal, tunnels, probeEveryMs: 3_600_000, onState: (s) => refusedStates.push(s) });
}

after(async () => {
  controller?.abort();
  await Promise.allSettled([forward?.closed, refused?.closed]);
});

test('100 connections at once share one SPDY session to the pod', async () => {
  await setUp();
  const before = endpoint.opened();
  const results = await Promise.all(Array.from({ length: 100 }, (_, i) => exchange(forward.local, Buffer.from(`hello ${i}`))));
  results.forEach((result, i) => assert.equal(result.echoed.toString(), `hello ${i}`));
  assert.equal(new Set(results.map((r) => r.pod)).size, 1);
  assert.ok(endpoint.opened() - before <= 1, `${endpoint.opened() - before} connections to the API server for 100 local ones`);
});

test('50 MB each way through the forward arrive intact', async () => {
  await setUp();
  const payload = randomBytes(50 * 1024 * 1024);
  const { echoed } = await exchange(forward.local, payload);
  assert.equal(echoed.length, payload.length);
  assert.equal(sha(echoed), sha(payload));
});

test('a refused port is told apart, and the session keeps serving the other port', async () => {
  await setUp();
  const opened = endpoint.opened();
  await new Promise<void>((resolve) => {
    const socket = connect({ port: refused.local, host: '127.0.0.1' });
    socket.on('error', () => resolve());
    socket.on('close', () => resolve());
  });
  await waitFor('app-not-listening reported', () => refusedStates.some((s) => s.kind === 'app-not-listening'), 30_000);
  const { echoed } = await exchange(forward.local, Buffer.from('still there'));
  assert.equal(echoed.toString(), 'still there');
  assert.equal(endpoint.opened(), opened, 'no new connection to the API server');
});

test('bytes sent to a refused port stop one of the kubelet\'s frame workers: later connections still get through', async () => {
  await setUp();
  // The kubelet's spdystream hands each stream to one of five workers, and a DATA frame blocks its worker until
  // someone reads it: after a refused dial no one will. Streams of that worker then wait forever (before nh
  // retired such a session, 2 of every 5 connections hung until the kubelet's 30 s stream timeout).
  await new Promise<void>((resolve) => {
    const socket = connect({ port: refused.local, host: '127.0.0.1' }, () => socket.write('GET / HTTP/1.1\r\n\r\n'));
    socket.on('error', () => resolve());
    socket.on('close', () => resolve());
  });
  for (let i = 0; i < 10; i++) {
    const answer = exchange(forward.local, Buffer.from(`after ${i}`));
    // A liveness bound, far above a normal answer (milliseconds) and the 2 s after which nh leaves a stuck session.
    const stuck = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`connection ${i} not answered within 15 s`)), 15_000).unref());
    assert.equal((await Promise.race([answer, stuck])).echoed.toString(), `after ${i}`);
  }
});

test('the pod replaced mid-session: open connections close, new ones reach the new pod on a new session', async () => {
  await setUp();
  const oldPod = pods.current()!;
  const open = connect({ port: forward.local, host: '127.0.0.1' });
  const greeting = await new Promise<string>((resolve) => open.once('data', (chunk: Buffer) => resolve(chunk.toString().trim())));
  assert.equal(greeting, oldPod.name);
  const closed = new Promise<void>((resolve) => open.on('close', () => resolve()));
  open.on('error', () => undefined);
  const opened = endpoint.opened();
  kubectl(['-n', namespace(), 'delete', 'pod', oldPod.name, '--wait=false']);
  await waitFor('a new pod tracked', () => pods.current() && pods.current()!.uid !== oldPod.uid, 120_000);
  await closed;
  const { pod, echoed } = await exchange(forward.local, Buffer.from('new pod'));
  assert.equal(pod, pods.current()!.name);
  assert.equal(echoed.toString(), 'new pod');
  assert.equal(endpoint.opened() - opened, 1, 'one new session for the new pod');
});

test('when the SPDY upgrade is refused, connections go through WebSocket tunnels', async () => {
  await setUp();
  const gate = await ApiGate.start(() => 'forward', { refuseSpdy: true });
  const signal = new AbortController();
  try {
    const gated = await createExecEndpoint({ kubeconfig: gate.kubeconfig, context: undefined, namespace: namespace(), env: process.env });
    const tunnels = new TunnelPool(gated, signal.signal);
    const viaGate = await startPortForward({ endpoint: gated, pods, local: await freePort(), remote: 8080, signal: signal.signal, tunnels });
    for (const word of ['first', 'second']) assert.equal(await roundTrip(viaGate.local, word), word);
    assert.equal(tunnels.protocol, 'websocket');
  } finally {
    signal.abort();
    await gate.close();
  }
});
