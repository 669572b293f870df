// The tunnel against a loopback fake API server speaking the kubelet's port-forward protocol: the faults
// @kubernetes/client-node's PortForward mishandles (lost error text, hanging local socket, crash on RST).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer as createHttpServer, type Server } from 'node:http';
import { connect, createServer, type Socket } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { pipeThroughTunnel, probeTunnel, type TunnelFailure } from '../../../src/forward/tunnel.js';

type Behaviour = 'echo' | 'refuse' | 'not-found';

async function fakeApiServer(behaviour: Behaviour): Promise<{ server: Server; endpoint: { server: string; applyToHTTPSOptions: () => Promise<void> } }> {
  const server = createHttpServer((_req, res) => {
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ kind: 'Status', message: 'pods "gone" not found' }));
  });
  const wss = new WebSocketServer({ noServer: true, handleProtocols: () => 'v4.channel.k8s.io' });
  server.on('upgrade', (req, socket, head) => {
    if (behaviour === 'not-found') {
      socket.end('HTTP/1.1 404 Not Found\r\ncontent-type: application/json\r\ncontent-length: 45\r\n\r\n{"kind":"Status","message":"pods \\"gone\\" !"}');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      const port = Buffer.from([0x90, 0x1f]);
      ws.send(Buffer.concat([Buffer.from([0]), port]));
      ws.send(Buffer.concat([Buffer.from([1]), port]));
      if (behaviour === 'refuse') {
        ws.send(Buffer.concat([Buffer.from([1]), Buffer.from('error forwarding port 8080 to pod p: dial tcp4 127.0.0.1:8080: connect: connection refused')]));
        ws.close(1000);
        return;
      }
      ws.on('message', (data: Buffer) => ws.send(Buffer.concat([Buffer.from([0]), Buffer.from(data.subarray(1).toString().toUpperCase())])));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return { server, endpoint: { server: `http://127.0.0.1:${port}`, applyToHTTPSOptions: async () => undefined } };
}

async function localForward(endpoint: { server: string; applyToHTTPSOptions: () => Promise<void> }, failures: TunnelFailure[]) {
  const tunnels: Promise<void>[] = [];
  const local = createServer((socket) => tunnels.push(pipeThroughTunnel(endpoint, { namespace: 'ns', pod: 'p', port: 8080 }, socket, { onFailure: (f) => failures.push(f) })));
  await new Promise<void>((resolve) => local.listen(0, '127.0.0.1', resolve));
  return { port: (local.address() as { port: number }).port, local, tunnels };
}

function talk(port: number, text: string): Promise<{ got: string; closed: boolean }> {
  return new Promise((resolve) => {
    const socket: Socket = connect(port, '127.0.0.1');
    let got = '';
    socket.on('data', (d) => (got += d.toString()));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve({ got, closed: true }));
    socket.write(text);
    setTimeout(() => {
      socket.destroy();
      resolve({ got, closed: false });
    }, 1_000).unref();
  });
}

test('data goes both ways; the port headers are not data', async () => {
  const { server, endpoint } = await fakeApiServer('echo');
  const failures: TunnelFailure[] = [];
  const { port, local, tunnels } = await localForward(endpoint, failures);
  const result = await talk(port, 'hello');
  assert.equal(result.got, 'HELLO');
  await Promise.all(tunnels);
  assert.deepEqual(failures, []);
  local.close();
  server.close();
});

test('a refused port in the pod closes the local connection and says so', async () => {
  const { server, endpoint } = await fakeApiServer('refuse');
  const failures: TunnelFailure[] = [];
  const { port, local, tunnels } = await localForward(endpoint, failures);
  const result = await talk(port, 'GET / HTTP/1.1\r\n\r\n');
  assert.equal(result.closed, true, 'the local client is not left hanging');
  await Promise.all(tunnels);
  assert.deepEqual(failures.map((f) => f.kind), ['refused']);
  assert.equal((await probeTunnel(endpoint, { namespace: 'ns', pod: 'p', port: 8080 }))?.kind, 'refused');
  local.close();
  server.close();
});

test('a refused upgrade (pod gone) is a tunnel failure with the server’s words, the local socket closed', async () => {
  const { server, endpoint } = await fakeApiServer('not-found');
  const failures: TunnelFailure[] = [];
  const { port, local, tunnels } = await localForward(endpoint, failures);
  const result = await talk(port, 'x');
  assert.equal(result.closed, true);
  await Promise.all(tunnels);
  assert.equal(failures[0]?.kind, 'tunnel');
  assert.match(failures[0]?.message ?? '', /HTTP 404/);
  local.close();
  server.close();
});

test('a local client resetting the connection does not crash nh', async () => {
  const { server, endpoint } = await fakeApiServer('echo');
  const failures: TunnelFailure[] = [];
  const { port, local, tunnels } = await localForward(endpoint, failures);
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  socket.write('x');
  await new Promise((resolve) => setTimeout(resolve, 100));
  socket.resetAndDestroy();
  await Promise.all(tunnels);
  assert.deepEqual(failures, []);
  local.close();
  server.close();
});

test('the session ending while a tunnel is still being opened (Ctrl-C) closes it without crashing nh', async () => {
  // An API server that takes the connection and never answers the upgrade: the tunnel stays connecting.
  const held: Socket[] = [];
  const silent = createServer((s) => held.push(s));
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const endpoint = { server: `http://127.0.0.1:${(silent.address() as { port: number }).port}`, applyToHTTPSOptions: async () => undefined };
  const ended = new AbortController();
  ended.abort();
  const failures: TunnelFailure[] = [];
  const local = createServer((socket) => void pipeThroughTunnel(endpoint, { namespace: 'ns', pod: 'p', port: 8080 }, socket, { signal: ended.signal, onFailure: (f) => failures.push(f) }));
  await new Promise<void>((resolve) => local.listen(0, '127.0.0.1', resolve));
  const result = await talk((local.address() as { port: number }).port, 'x');
  // An error nobody listened for would have ended this process before here.
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(result.closed, true);
  assert.deepEqual(failures, []);
  for (const s of held) s.destroy();
  local.close();
  silent.close();
});
