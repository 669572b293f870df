// SPDY/3.1 framing, header compression and the session's flow control against a fake peer on an in-memory
// duplex pair: the peer decodes what nh sends and answers as the kubelet's spdystream does (no windows) or as
// a peer that keeps windows.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { Duplex, PassThrough } from 'node:stream';
import { createDeflate, constants } from 'node:zlib';
import {
  FrameDecoder, RST, SETTINGS_INITIAL_WINDOW_SIZE, encodeData, encodeGoAway, encodePing, encodeRstStream, encodeSettings,
  encodeSynReply, encodeSynStream, encodeWindowUpdate, type Frame,
} from '../../../src/forward/spdy/frames.js';
import { HeaderCompressor, HeaderDecompressor, parseHeaders, serializeHeaders, spdyDictionary } from '../../../src/forward/spdy/header-block.js';
import { SpdySession, type SpdyStream } from '../../../src/forward/spdy/session.js';
import { PodSession } from '../../../src/forward/pod-session.js';

test('the SPDY/3 dictionary is the spec\'s: its zlib id (adler-32) is 0xe3c6a7c2, as Go\'s spdy package has it', async () => {
  assert.equal(spdyDictionary().length, 1423);
  const deflate = createDeflate({ dictionary: spdyDictionary() });
  const first = await new Promise<Buffer>((resolve) => {
    deflate.once('data', resolve);
    deflate.write(Buffer.from('x'));
    deflate.flush(constants.Z_SYNC_FLUSH);
  });
  deflate.destroy();
  assert.equal(first[1]! & 0x20, 0x20, 'FDICT set');
  assert.equal(first.readUInt32BE(2), 0xe3c6a7c2);
});

test('every frame kind decodes to what was encoded, whatever the chunking', () => {
  const frames = [
    encodeData(3, Buffer.from('hello'), false),
    encodeData(3, Buffer.alloc(0), true),
    encodeSynStream(5, Buffer.from([1, 2, 3]), false),
    encodeSynReply(5, Buffer.from([4]), true),
    encodeRstStream(7, RST.cancel),
    encodeSettings(new Map([[SETTINGS_INITIAL_WINDOW_SIZE, 12345]])),
    encodePing(9),
    encodeGoAway(11, 0),
    encodeWindowUpdate(0, 70000),
  ];
  const decoder = new FrameDecoder();
  const all = Buffer.concat(frames);
  const decoded: Frame[] = [];
  for (let i = 0; i < all.length; i += 3) decoded.push(...decoder.push(all.subarray(i, i + 3)));
  assert.deepEqual(decoded, [
    { kind: 'data', streamId: 3, fin: false, data: Buffer.from('hello') },
    { kind: 'data', streamId: 3, fin: true, data: Buffer.alloc(0) },
    { kind: 'syn-stream', streamId: 5, fin: false, headerBlock: Buffer.from([1, 2, 3]) },
    { kind: 'syn-reply', streamId: 5, fin: true, headerBlock: Buffer.from([4]) },
    { kind: 'rst-stream', streamId: 7, status: RST.cancel },
    { kind: 'settings', values: new Map([[SETTINGS_INITIAL_WINDOW_SIZE, 12345]]) },
    { kind: 'ping', id: 9 },
    { kind: 'goaway', lastGoodStreamId: 11, status: 0 },
    { kind: 'window-update', streamId: 0, delta: 70000 },
  ]);
});

test('a frame of another SPDY version is a protocol error; an unknown control type is ignored', () => {
  const v2 = encodePing(1);
  v2.writeUInt16BE(0x8002, 0);
  assert.throws(() => new FrameDecoder().push(v2), /SPDY version 2/);
  const unknown = encodePing(1);
  unknown.writeUInt16BE(0x00ff, 2);
  assert.deepEqual(new FrameDecoder().push(unknown), [{ kind: 'unknown', type: 0xff }]);
});

test('header blocks: names lowercase, and a session\'s blocks decompress in order through one zlib stream', async () => {
  const block = serializeHeaders(new Map([['StreamType', 'data'], ['port', '8080']]));
  assert.deepEqual(parseHeaders(block), new Map([['streamtype', 'data'], ['port', '8080']]));
  const compressor = await HeaderCompressor.create();
  const decompressor = await HeaderDecompressor.create();
  const sent = Array.from({ length: 5 }, (_, i) => new Map([['streamtype', i % 2 ? 'data' : 'error'], ['port', '8080'], ['requestid', String(i)]]));
  const blocks = await Promise.all(sent.map((headers) => compressor.compress(headers)));
  for (const [i, compressed] of blocks.entries()) assert.deepEqual(await decompressor.decompress(compressed), sent[i]);
  compressor.close();
  decompressor.close();
});

/** The peer's end of an in-memory connection: reads nh's frames, writes its own. */
class FakePeer {
  readonly frames: Frame[] = [];
  private readonly decoder = new FrameDecoder();
  private waiters: (() => void)[] = [];
  readonly transport: Duplex;
  private readonly toNh = new PassThrough();
  private readonly fromNh = new PassThrough({ highWaterMark: 16 * 1024 });
  private compressor: Promise<HeaderCompressor> = HeaderCompressor.create();

  constructor(private readonly onFrame: (frame: Frame, peer: FakePeer) => void = () => undefined) {
    this.transport = Duplex.from({ readable: this.toNh, writable: this.fromNh });
    this.fromNh.on('data', (chunk: Buffer) => {
      for (const frame of this.decoder.push(chunk)) {
        this.frames.push(frame);
        this.onFrame(frame, this);
      }
      for (const waiter of this.waiters.splice(0)) waiter();
    });
  }

  send(frame: Buffer): boolean {
    return this.toNh.write(frame);
  }

  async reply(streamId: number): Promise<void> {
    this.send(encodeSynReply(streamId, await (await this.compressor).compress(new Map()), false));
  }

  /** Bytes nh sent as DATA on a stream. */
  dataOn(streamId: number): Buffer {
    return Buffer.concat(this.frames.flatMap((f) => (f.kind === 'data' && f.streamId === streamId ? [f.data] : [])));
  }

  async until(holds: () => boolean): Promise<void> {
    while (!holds()) await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  /** How much the peer has buffered that nh has not read (nh paused the transport when this grows). */
  get unreadByNh(): number {
    return this.toNh.readableLength + this.toNh.writableLength;
  }
}

function readAll(stream: SpdyStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  return new Promise((resolve) => stream.on('end', () => resolve(Buffer.concat(chunks))));
}

test('against a peer that keeps no windows (the kubelet\'s spdystream), 10 MB go through without a WINDOW_UPDATE', async () => {
  const peer = new FakePeer();
  const session = await SpdySession.start(peer.transport);
  const stream = session.openStream(new Map([['streamtype', 'data']]));
  const payload = Buffer.alloc(10 * 1024 * 1024, 7);
  stream.end(payload);
  await peer.until(() => peer.frames.some((f) => f.kind === 'data' && f.fin));
  assert.ok(peer.dataOn(stream.id).equals(payload));
  assert.deepEqual(peer.frames.filter((f) => f.kind === 'syn-stream').map((f) => f.kind === 'syn-stream' && f.streamId), [1]);
  session.close();
});

test('against a peer that keeps windows, nh never sends past the window it was given', async () => {
  const window = 16 * 1024;
  let granted = window;
  let sent = 0;
  const peer = new FakePeer((frame, p) => {
    if (frame.kind !== 'data' || frame.streamId === 0) return;
    sent += frame.data.length;
    assert.ok(sent <= granted, `${sent} bytes sent with ${granted} granted`);
    // The peer's reader takes each frame at once and gives its room back.
    granted += frame.data.length;
    p.send(encodeWindowUpdate(frame.streamId, frame.data.length));
  });
  peer.send(encodeSettings(new Map([[SETTINGS_INITIAL_WINDOW_SIZE, window]])));
  peer.send(encodeWindowUpdate(0, 1024 * 1024 * 1024));
  const session = await SpdySession.start(peer.transport);
  await new Promise((resolve) => setImmediate(resolve));
  const stream = session.openStream(new Map([['streamtype', 'data']]));
  const payload = Buffer.alloc(1024 * 1024, 3);
  stream.end(payload);
  await peer.until(() => peer.frames.some((f) => f.kind === 'data' && f.fin));
  assert.ok(peer.dataOn(stream.id).equals(payload));
  session.close();
});

test('a reader that does not keep up stops the session reading; credit goes back only for what it took', async () => {
  // The peer answers pings, but nh hears nothing while it holds the transport paused: that is no dead link.
  const peer = new FakePeer((frame, p) => frame.kind === 'ping' && p.send(encodePing(frame.id)));
  const session = await SpdySession.start(peer.transport, { streamBufferBytes: 64 * 1024, pingMs: 10 });
  const stream = session.openStream(new Map([['streamtype', 'data']]));
  await peer.reply(stream.id);
  const chunk = Buffer.alloc(32 * 1024, 1);
  const total = 4 * 1024 * 1024;
  for (let sent = 0; sent < total; sent += chunk.length) peer.send(encodeData(stream.id, chunk, sent + chunk.length === total));
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(session.usable, true, 'ten ping periods paused, still alive');
  // Nothing read yet: the session stopped pulling frames in, so most of them wait on the peer's side.
  assert.ok(peer.unreadByNh > total / 2, `${peer.unreadByNh} bytes still with the peer`);
  const credited = () => peer.frames.reduce((sum, f) => sum + (f.kind === 'window-update' && f.streamId === stream.id ? f.delta : 0), 0);
  assert.ok(credited() <= 64 * 1024 + chunk.length, `${credited()} bytes credited before the reader took any`);
  const received = await readAll(stream);
  assert.equal(received.length, total);
  session.close();
});

test('pings: the peer\'s are echoed, nh\'s own are sent, and a silent peer ends the session', async () => {
  const peer = new FakePeer();
  // The session's ping timer does not hold the process open; the test must, until the session gives up.
  const keepAlive = setInterval(() => undefined, 1_000);
  let closedWith: Error | undefined;
  const closed = new Promise<void>((resolve) => void SpdySession.start(peer.transport, { pingMs: 20, onClose: (error) => ((closedWith = error), resolve()) }));
  peer.send(encodePing(2));
  await peer.until(() => peer.frames.some((f) => f.kind === 'ping' && f.id === 2) && peer.frames.some((f) => f.kind === 'ping' && f.id === 1));
  await closed;
  clearInterval(keepAlive);
  assert.match(closedWith?.message ?? '', /no answer to pings/);
});

test('RST_STREAM ends one stream as reset; GOAWAY ends the streams the peer never took and the session\'s use', async () => {
  const peer = new FakePeer();
  const session = await SpdySession.start(peer.transport);
  const first = session.openStream(new Map([['streamtype', 'error']]));
  const second = session.openStream(new Map([['streamtype', 'data']]));
  const third = session.openStream(new Map([['streamtype', 'data']]));
  await Promise.all([first.opened, second.opened, third.opened]);
  const [firstEnd, secondEnd, thirdEnd] = [readAll(first), readAll(second), readAll(third)];
  peer.send(encodeRstStream(first.id, RST.refusedStream));
  peer.send(encodeGoAway(second.id, 0));
  await firstEnd;
  assert.deepEqual(first.ending, { kind: 'reset', status: RST.refusedStream });
  await thirdEnd;
  assert.equal(third.ending?.kind, 'session-lost');
  assert.equal(session.usable, false);
  assert.equal(second.readableEnded, false, 'the stream the peer took goes on');
  peer.send(encodeData(second.id, Buffer.from('last words'), true));
  assert.equal((await secondEnd).toString(), 'last words');
});

test('port-forward: once the pod has ended its side, nothing more the local client sends goes on the stream (the kubelet reads no more of it)', async () => {
  const peer = new FakePeer();
  const pod = await PodSession.over(peer.transport, { namespace: 'ns', pod: 'p' });
  const { client, local, close } = await localConnection();
  const piped = pod.pipe(8080, local);
  await peer.until(() => peer.frames.filter((f) => f.kind === 'syn-stream').length === 2);
  const [errorId, dataId] = peer.frames.flatMap((f) => (f.kind === 'syn-stream' ? [f.streamId] : []));
  await peer.reply(errorId!);
  await peer.reply(dataId!);
  client.write('request');
  await peer.until(() => peer.dataOn(dataId!).toString() === 'request');
  // The pod answers and ends its side; the client, half-open, still sends, then ends.
  let answer = '';
  client.on('data', (chunk: Buffer) => (answer += chunk.toString()));
  peer.send(encodeData(dataId!, Buffer.from('answer'), true));
  await once(client, 'end');
  client.end('more');
  await peer.until(() => peer.frames.some((f) => f.kind === 'data' && f.streamId === dataId && f.fin));
  assert.equal(answer, 'answer');
  assert.equal(peer.dataOn(dataId!).toString(), 'request');
  peer.send(encodeData(errorId!, Buffer.alloc(0), true));
  await piped;
  pod.close();
  close();
});

/** Closes what a test left open when it failed half-way: an open server keeps the test file's process running. */
const leftOpen = new Set<() => void>();
after(() => {
  for (const close of leftOpen) close();
});

/** A local connection accepted by a throwaway server: `client` is the user's end, `local` the one nh pipes; close() drops both. */
async function localConnection(): Promise<{ client: Socket; local: Socket; close: () => void }> {
  const server = createServer({ allowHalfOpen: true }).listen(0, '127.0.0.1');
  await once(server, 'listening');
  const client = connect({ port: (server.address() as AddressInfo).port, host: '127.0.0.1', allowHalfOpen: true });
  const [local] = (await once(server, 'connection')) as [Socket];
  local.pause();
  const close = () => {
    leftOpen.delete(close);
    client.destroy();
    local.destroy();
    server.close();
  };
  leftOpen.add(close);
  return { client, local, close };
}

function synStreamIds(peer: FakePeer): number[] {
  return peer.frames.flatMap((f) => (f.kind === 'syn-stream' ? [f.streamId] : []));
}

test('port-forward: the local client\'s bytes go out only once the kubelet has taken both streams of the pair', async () => {
  const peer = new FakePeer();
  const pod = await PodSession.over(peer.transport, { namespace: 'ns', pod: 'p' });
  const { client, local, close } = await localConnection();
  const piped = pod.pipe(8080, local);
  client.write('request');
  await peer.until(() => synStreamIds(peer).length === 2);
  const [errorId, dataId] = synStreamIds(peer);
  await peer.reply(dataId!);
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(peer.dataOn(dataId!).length, 0, 'nothing sent while the error stream is not taken');
  await peer.reply(errorId!);
  await peer.until(() => peer.dataOn(dataId!).toString() === 'request');
  close();
  assert.equal(await piped, 'ended');
  pod.close();
});

test('port-forward: a pair the kubelet does not take in time moves, with nothing sent, to a new session; the stuck one takes no more', async () => {
  const stuck = new FakePeer();
  const first = await PodSession.over(stuck.transport, { namespace: 'ns', pod: 'p' }, { replyTimeoutMs: 50 });
  const { client, local, close } = await localConnection();
  client.write('request');
  assert.equal(await first.pipe(8080, local), 'not-taken');
  assert.equal(first.usable, false);
  assert.equal(local.destroyed, false, 'the local connection stays open for the next session');
  const [, stuckDataId] = synStreamIds(stuck);
  assert.equal(stuck.dataOn(stuckDataId!).length, 0);

  const healthy = new FakePeer((frame, p) => void (frame.kind === 'syn-stream' && p.reply(frame.streamId)));
  const second = await PodSession.over(healthy.transport, { namespace: 'ns', pod: 'p' });
  const piped = second.pipe(8080, local);
  await healthy.until(() => synStreamIds(healthy).length === 2);
  const [, dataId] = synStreamIds(healthy);
  await healthy.until(() => healthy.dataOn(dataId!).toString() === 'request');
  let answer = '';
  client.on('data', (chunk: Buffer) => (answer += chunk.toString()));
  healthy.send(encodeData(dataId!, Buffer.from('answer'), true));
  await once(client, 'end');
  assert.equal(answer, 'answer');
  close();
  assert.equal(await piped, 'ended');
  second.close();
});

/** A peer like the kubelet's spdystream: five frame workers (stream id modulo 5), each answering one stream per `ms`, in order. */
function slowWorkersPeer(ms: number, stuckWorker?: number): FakePeer {
  const queued = new Map<number, number>();
  return new FakePeer((frame, p) => {
    if (frame.kind !== 'syn-stream') return;
    const worker = frame.streamId % 5;
    if (worker === stuckWorker) return;
    const place = (queued.get(worker) ?? 0) + 1;
    queued.set(worker, place);
    setTimeout(() => void p.reply(frame.streamId), ms * place);
  });
}

test('port-forward: pairs behind a slow but steady kubelet worker are waited for, past the reply timeout; a stuck worker still retires the session', async () => {
  // 10 connections at once: 4 streams per worker, the last answered 4 × 300 ms after it was opened, the timeout
  // 1 s: each worker answers every 300 ms, so the test holds unless this process stalls for 0.7 s (a loaded CI).
  const peer = slowWorkersPeer(300);
  const pod = await PodSession.over(peer.transport, { namespace: 'ns', pod: 'p' }, { replyTimeoutMs: 1_000 });
  const connections = await Promise.all(Array.from({ length: 10 }, () => localConnection()));
  const piped = connections.map(({ client, local }) => (client.write('request'), pod.pipe(8080, local)));
  const allSent = peer.until(() => {
    const dataIds = synStreamIds(peer).filter((_, i) => i % 2 === 1);
    return dataIds.length === 10 && dataIds.every((id) => peer.dataOn(id).toString() === 'request');
  }).then(() => 'all sent');
  const firstLate = Promise.race(piped.map((p) => p.then((outcome) => (outcome === 'not-taken' ? 'a pair taken as late' : new Promise<never>(() => undefined)))));
  assert.equal(await Promise.race([allSent, firstLate]), 'all sent');
  assert.equal(pod.usable, true, 'no pair was taken as stuck');
  for (const { close } of connections) close();
  assert.deepEqual(await Promise.all(piped), Array(10).fill('ended'));
  pod.close();

  // Worker 3 answers nothing while the others answer at once: the pair with stream 3 is late all the same.
  const stuck = slowWorkersPeer(0, 3);
  const second = await PodSession.over(stuck.transport, { namespace: 'ns', pod: 'p' }, { replyTimeoutMs: 100 });
  const { client, local, close } = await localConnection();
  client.write('request');
  assert.equal(await second.pipe(8080, local), 'not-taken');
  assert.deepEqual(synStreamIds(stuck), [1, 3]);
  assert.equal(second.usable, false);
  close();
});

test('port-forward: bytes sent to a refused dial retire the session (no one reads them, and the kubelet\'s worker holding them is stuck)', async () => {
  const peer = new FakePeer((frame, p) => void (frame.kind === 'syn-stream' && p.reply(frame.streamId)));
  const pod = await PodSession.over(peer.transport, { namespace: 'ns', pod: 'p' });
  const { client, local, close } = await localConnection();
  const failures: string[] = [];
  const piped = pod.pipe(8080, local, { onFailure: (failure) => failures.push(failure.kind) });
  client.write('request');
  await peer.until(() => synStreamIds(peer).length === 2 && peer.dataOn(synStreamIds(peer)[1]!).length > 0);
  const [errorId, dataId] = synStreamIds(peer);
  peer.send(encodeData(errorId!, Buffer.from('failed to connect to localhost:8080: connect: connection refused'), true));
  peer.send(encodeData(dataId!, Buffer.alloc(0), true));
  assert.equal(await piped, 'ended');
  assert.deepEqual(failures, ['refused']);
  assert.equal(pod.usable, false, 'new connections go to a new session');
  close();
});
