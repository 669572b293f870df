// The exec channel against a loopback fake of the API server's exec WebSocket (no cluster): protocol
// negotiation, stdin framing and half-close, exit status, backpressure, and failures before and after open.
import { mock, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { openExec, type ExecEndpoint } from '../../../src/kube/exec.js';

interface Fake {
  readonly endpoint: ExecEndpoint;
  close(): Promise<void>;
}

/** A fake API server: `onSocket` plays the container for each exec; `offer` picks the subprotocol; `refuse` answers 403; `autoPong` off leaves pings unanswered. */
async function fakeServer(onSocket: (ws: WebSocket, url: URL) => void, offer = 'v5.channel.k8s.io', refuse = false, autoPong = true): Promise<Fake> {
  const server: Server = createServer();
  const wss = new WebSocketServer({ noServer: true, autoPong, handleProtocols: (protocols) => (protocols.has(offer) ? offer : false) });
  server.on('upgrade', (req, socket, head) => {
    if (refuse) {
      const body = JSON.stringify({ kind: 'Status', message: 'pods "p" is forbidden: cannot create pods/exec' });
      socket.end(`HTTP/1.1 403 Forbidden\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body}`);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => onSocket(ws, new URL(req.url ?? '/', 'http://x')));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    endpoint: { server: `http://127.0.0.1:${port}`, applyToHTTPSOptions: async () => undefined },
    close: () =>
      new Promise((resolve) => {
        wss.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

const target = { namespace: 'ns', pod: 'p', container: 'c' };
const status = (exitCode: number) =>
  Buffer.concat([Buffer.from([3]), Buffer.from(JSON.stringify(exitCode === 0 ? { status: 'Success' } : { status: 'Failure', details: { causes: [{ reason: 'ExitCode', message: String(exitCode) }] } }))]);

test('v5: stdin frames on channel 0, half-close, stdout and the exit code after it', async () => {
  const fake = await fakeServer((ws, url) => {
    assert.deepEqual(url.searchParams.getAll('command'), ['cat']);
    const received: Buffer[] = [];
    ws.on('message', (data: Buffer) => {
      if (data[0] === 0) received.push(data.subarray(1));
      if (data[0] === 255 && data[1] === 0) {
        // stdin closed: the "process" echoes everything, then exits 3.
        ws.send(Buffer.concat([Buffer.from([1]), ...received]));
        ws.send(status(3));
        ws.close();
      }
    });
  });
  try {
    let out = '';
    const channel = await openExec(fake.endpoint, target, ['cat'], { stdin: true, onStdout: (d) => (out += d.toString()) });
    assert.equal(channel.protocol, 'v5.channel.k8s.io');
    await channel.write(Buffer.from('hello '));
    await channel.write(Buffer.from('world'));
    channel.closeStdin();
    assert.deepEqual(await channel.done, { exitCode: 3, message: undefined });
    assert.equal(out, 'hello world');
  } finally {
    await fake.close();
  }
});

test('v4 is accepted when v5 is not offered (the sync agent never needs a half-close)', async () => {
  const fake = await fakeServer((ws) => {
    ws.on('message', (data: Buffer) => {
      ws.send(Buffer.concat([Buffer.from([1]), data.subarray(1)]));
      ws.send(status(0));
      ws.close();
    });
  }, 'v4.channel.k8s.io');
  try {
    let out = '';
    const channel = await openExec(fake.endpoint, target, ['sh'], { stdin: true, onStdout: (d) => (out += d.toString()) });
    assert.equal(channel.protocol, 'v4.channel.k8s.io');
    await channel.write(Buffer.from('quit'));
    assert.equal((await channel.done).exitCode, 0);
    assert.equal(out, 'quit');
  } finally {
    await fake.close();
  }
});

test('a socket that closes without a status rejects done; later writes fail', async () => {
  const fake = await fakeServer((ws) => ws.on('message', () => ws.terminate()));
  try {
    const channel = await openExec(fake.endpoint, target, ['sh'], { stdin: true, onStdout: () => undefined });
    await channel.write(Buffer.from('x'));
    await assert.rejects(channel.done, (e: Error & { code?: string }) => e.code === 'NH_EXEC_LOST');
    await assert.rejects(channel.write(Buffer.from('y')), /closed|ended/);
  } finally {
    await fake.close();
  }
});

test('writes wait while the socket holds more than the high-water mark', async () => {
  let release: () => void = () => undefined;
  const fake = await fakeServer((ws) => {
    // Stop reading (TCP backpressure builds up in the client) until released.
    const raw = (ws as unknown as { _socket: Socket })._socket;
    raw.pause();
    release = () => raw.resume();
    let bytes = 0;
    ws.on('message', (data: Buffer) => {
      bytes += data.length - 1;
      if (bytes >= 64 * 1024 * 1024) {
        ws.send(status(0));
        ws.close();
      }
    });
  });
  try {
    const channel = await openExec(fake.endpoint, target, ['tar', 'x'], { stdin: true, onStdout: () => undefined, highWaterBytes: 1024 * 1024 });
    const chunk = Buffer.alloc(256 * 1024);
    let written = 0;
    const writing = (async () => {
      for (let i = 0; i < 256; i++) {
        await channel.write(chunk);
        written += chunk.length;
      }
    })();
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.ok(written < 64 * 1024 * 1024, `writes paused by backpressure (${written} bytes accepted while the peer read nothing)`);
    release();
    await writing;
    assert.equal((await channel.done).exitCode, 0);
  } finally {
    await fake.close();
  }
});

test('large writes reuse their frames once sent: 64 MiB cost a handful of buffers, not 64, and each arrives intact', async () => {
  const received: Buffer[] = [];
  const fake = await fakeServer((ws) => {
    // Reads nothing at first, so that frames wait in the socket while later writes need new ones.
    const raw = (ws as unknown as { _socket: Socket })._socket;
    raw.pause();
    setTimeout(() => raw.resume(), 100);
    ws.on('message', (data: Buffer) => {
      received.push(data);
      if (received.length === 64) {
        ws.send(status(0));
        ws.close();
      }
    });
  });
  // Counts the large buffers allocated by write() itself (the fake server's receiving allocates too, later).
  const allocUnsafe = Buffer.allocUnsafe.bind(Buffer);
  let inWrite = false;
  let frames = 0;
  const spy = mock.method(Buffer, 'allocUnsafe', (size: number) => {
    if (inWrite && size >= 64 * 1024) frames++;
    return allocUnsafe(size);
  });
  try {
    const channel = await openExec(fake.endpoint, target, ['tar', 'x'], { stdin: true, onStdout: () => undefined });
    const data = Buffer.alloc(1024 * 1024);
    for (let i = 0; i < 64; i++) {
      // The caller's buffer changes as soon as write() returns: the channel must have copied it.
      data.fill(i);
      inWrite = true;
      const written = channel.write(data);
      inWrite = false;
      await written;
    }
    assert.equal((await channel.done).exitCode, 0);
    // In flight: the 4 MiB the socket may hold, and the frames sent whose callbacks have not run yet.
    assert.ok(frames <= 12, `${frames} frames of 1 MiB allocated for 64 writes`);
    assert.deepEqual(received.map((m, i) => m.length === data.length + 1 && m[0] === 0 && m.subarray(1).every((b) => b === i)), received.map(() => true), 'every write arrived whole, none overwritten by a later one');
  } finally {
    spy.mock.restore();
    await fake.close();
  }
});

test('a refused upgrade is an NhError with the API server message and a hint', async () => {
  const fake = await fakeServer(() => undefined, 'v5.channel.k8s.io', true);
  try {
    await assert.rejects(openExec(fake.endpoint, target, ['sh'], { stdin: true, onStdout: () => undefined }), (e: Error & { code?: string; hint?: string }) => {
      assert.equal(e.code, 'NH_EXEC_REFUSED');
      assert.match(e.message, /HTTP 403.*forbidden/);
      assert.match(e.hint ?? '', /pods\/exec/);
      return true;
    });
  } finally {
    await fake.close();
  }
});

test('a connection that stops answering pings ends the channel as lost', async () => {
  // The network drops every packet: no pong ever comes back.
  const fake = await fakeServer(() => undefined, 'v5.channel.k8s.io', false, false);
  try {
    const channel = await openExec(fake.endpoint, target, ['sleep'], { stdin: true, onStdout: () => undefined, keepaliveMs: 30 });
    await assert.rejects(channel.done, /no answer to pings/);
  } finally {
    await fake.close();
  }
});

test('after nh itself was frozen (SIGSTOP, a sleeping laptop) a live connection is kept, not given up', async () => {
  const fake = await fakeServer(() => undefined);
  try {
    const channel = await openExec(fake.endpoint, target, ['sleep'], { stdin: true, onStdout: () => undefined, keepaliveMs: 30 });
    let settled = false;
    channel.done.then(() => (settled = true), () => (settled = true));
    await new Promise((resolve) => setTimeout(resolve, 100));
    // Ten periods without running a timer, as after SIGSTOP/SIGCONT.
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 300);
    await new Promise((resolve) => setTimeout(resolve, 60));
    assert.equal(settled, false, 'the channel is still open');
    channel.terminate();
  } finally {
    await fake.close();
  }
});

test('a 5xx status after the upgrade (the kubelet or the runtime unreachable) is a refusal, not an exit of the process', async () => {
  const fake = await fakeServer((ws) => {
    const message = 'Internal error occurred: error sending request: Post "https://vm:20250/exec/ns/p/c": dial tcp 127.0.0.1:20250: connect: connection refused';
    ws.send(Buffer.concat([Buffer.from([3]), Buffer.from(JSON.stringify({ kind: 'Status', status: 'Failure', message, reason: 'InternalError', code: 500 }))]));
    ws.close();
  });
  try {
    const channel = await openExec(fake.endpoint, target, ['true'], { stdin: false, onStdout: () => undefined });
    await assert.rejects(channel.done, (e: Error & { code?: string; status?: number }) => e.code === 'NH_EXEC_REFUSED' && e.status === 500 && /connection refused/.test(e.message));
  } finally {
    await fake.close();
  }
});
