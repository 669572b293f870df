/**
 * A SPDY/3.1 client session over one upgraded connection: many streams, each a Duplex, multiplexed as frames.
 * No network code here: the transport is any Duplex (the API server's upgraded socket, or a test's fake peer).
 *
 * Flow control, both ways:
 * - Receiving: each stream's reader has a bounded buffer. While one is full the session stops reading the
 *   transport (TCP then pushes back on the peer), and credit (WINDOW_UPDATE) is given back only for bytes the
 *   buffer took, so a peer that keeps windows never sends more than the reader can hold. The kubelet's side
 *   (moby/spdystream) keeps no windows: it ignores WINDOW_UPDATE and is paced by TCP alone.
 * - Sending: frames go out only while the transport accepts them (else writers wait for 'drain'). Windows are
 *   kept once the peer shows it keeps them (a WINDOW_UPDATE or an INITIAL_WINDOW_SIZE setting): spdystream
 *   sends neither and never grants more than the initial 64 KiB, so enforcing windows from the start would
 *   stall every transfer to the kubelet after 64 KiB.
 * - Pings every pingMs; no frame at all from the peer for three periods ends the session (a late timer tick
 *   means nh itself was frozen, not the link).
 */
import { Duplex } from 'node:stream';
import {
  DEFAULT_WINDOW, FrameDecoder, RST, SETTINGS_INITIAL_WINDOW_SIZE, SpdyProtocolError, encodeData, encodeGoAway, encodePing,
  encodeRstStream, encodeSettings, encodeSynStream, encodeWindowUpdate, type Frame,
} from './frames.js';
import { HeaderCompressor, HeaderDecompressor, type Headers } from './header-block.js';

export interface SpdySessionOptions {
  /** Ping period (default 2 s). */
  readonly pingMs?: number;
  /** What one stream's reader may buffer before the session stops reading the transport (default 1 MiB). */
  readonly streamBufferBytes?: number;
  /** Called once when the session ends, with why when it was not close(). */
  readonly onClose?: (error: Error | undefined) => void;
}

const DEFAULT_PING_MS = 2_000;
/**
 * The kubelet's spdystream hands each stream's frames to one of five workers (stream id modulo 5), each taking its
 * queue in order: a reply from a stream's worker shows that worker is getting through the streams before it.
 */
const PEER_FRAME_WORKERS = 5;
const DEFAULT_STREAM_BUFFER = 1024 * 1024;
/** A DATA frame carries at most this much (the transport's chunks are up to 64 KiB anyway). */
const MAX_DATA_FRAME = 64 * 1024;
/** What nh lets the peer send ahead, per stream and per session, before WINDOW_UPDATE. */
const RECEIVE_WINDOW = 4 * 1024 * 1024;

/** How a stream's readable side ended, when it was not the peer's FIN. */
export type StreamEnding = { readonly kind: 'reset'; readonly status: number } | { readonly kind: 'session-lost'; readonly message: string };

export class SpdyStream extends Duplex {
  /** Set when the stream ended by RST_STREAM or with its session instead of the peer's FIN. */
  ending: StreamEnding | undefined;
  /** Resolved once its SYN_STREAM is on the wire (its other frames must follow it). */
  opened: Promise<void> = Promise.resolve();
  /** True once the peer answered the SYN_STREAM (SYN_REPLY: it took the stream); false if the stream ended first. */
  readonly taken: Promise<boolean>;
  private settleTaken!: (taken: boolean) => void;
  /** When its SYN_STREAM was queued, and whether the SYN_REPLY came. */
  readonly openedAt = Date.now();
  answered = false;
  sendWindow: number;
  receivedSinceUpdate = 0;
  localFin = false;
  remoteFin = false;
  waitingForWindow: (() => void) | undefined;

  constructor(
    readonly id: number,
    private readonly session: SpdySession,
    sendWindow: number,
    bufferBytes: number,
  ) {
    super({ allowHalfOpen: true, readableHighWaterMark: bufferBytes, writableHighWaterMark: MAX_DATA_FRAME });
    this.sendWindow = sendWindow;
    this.taken = new Promise((resolve) => (this.settleTaken = resolve));
  }

  /** The peer's SYN_REPLY came. */
  replied(): void {
    this.answered = true;
    this.settleTaken(true);
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.session.sendData(this, chunk, callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.session.sendFin(this);
    callback();
  }

  override _read(): void {
    this.session.readerHasRoom(this);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.settleTaken(false);
    this.session.dropStream(this);
    callback(error);
  }

  /** The readable side ends after the data already received, whatever ended it. */
  endReadable(ending: StreamEnding | undefined): void {
    if (this.remoteFin) return;
    this.remoteFin = true;
    this.ending ??= ending;
    this.settleTaken(false);
    this.push(null);
  }
}

export class SpdySession {
  private readonly streams = new Map<number, SpdyStream>();
  private readonly decoder = new FrameDecoder();
  private readonly backedUp = new Set<SpdyStream>();
  private readonly drainWaiters: (() => void)[] = [];
  private nextStreamId = 1;
  private nextPingId = 1;
  private lastPeerStreamId = 0;
  private peerInitialWindow = DEFAULT_WINDOW;
  private sessionSendWindow = DEFAULT_WINDOW;
  private sessionReceivedSinceUpdate = 0;
  /** The peer showed it keeps flow-control windows; until then sending is paced by the transport only. */
  private peerKeepsWindows = false;
  private goneAway = false;
  private retiring = false;
  private closedWith: { error: Error | undefined } | undefined;
  private lastHeard = Date.now();
  private readonly lastReplyByWorker = new Map<number, number>();
  private lastTick = Date.now();
  private readonly pingTimer: NodeJS.Timeout;
  private readonly pingMs: number;
  private readonly bufferBytes: number;

  private constructor(
    private readonly transport: Duplex,
    private readonly compressor: HeaderCompressor,
    private readonly decompressor: HeaderDecompressor,
    private readonly options: SpdySessionOptions,
  ) {
    this.pingMs = options.pingMs ?? DEFAULT_PING_MS;
    this.bufferBytes = options.streamBufferBytes ?? DEFAULT_STREAM_BUFFER;
    transport.on('data', (chunk: Buffer) => this.received(chunk));
    transport.on('drain', () => this.drained());
    transport.on('error', (error: Error) => this.end(error));
    transport.on('end', () => this.end(new Error('the connection was closed by the other side')));
    transport.on('close', () => this.end(new Error('the connection closed')));
    this.pingTimer = setInterval(() => this.tick(), this.pingMs);
    this.pingTimer.unref();
    // Announce nh's receive window: a peer that keeps windows may then send this much ahead.
    this.write(encodeSettings(new Map([[SETTINGS_INITIAL_WINDOW_SIZE, RECEIVE_WINDOW]])));
    this.write(encodeWindowUpdate(0, RECEIVE_WINDOW - DEFAULT_WINDOW));
  }

  static async start(transport: Duplex, options: SpdySessionOptions = {}): Promise<SpdySession> {
    const [compressor, decompressor] = await Promise.all([HeaderCompressor.create(), HeaderDecompressor.create()]);
    return new SpdySession(transport, compressor, decompressor, options);
  }

  /** False once the session ended, was retired or the peer said GOAWAY: new streams need a new session. */
  get usable(): boolean {
    return !this.closedWith && !this.goneAway && !this.retiring;
  }

  get openStreams(): number {
    return this.streams.size;
  }

  /**
   * How long the stream has waited for its SYN_REPLY with no reply at all from the peer's worker that handles it;
   * 0 once answered. Under load a worker answers the streams queued before it slowly; a stuck one answers nothing.
   */
  unansweredFor(stream: SpdyStream): number {
    if (stream.answered) return 0;
    return Date.now() - Math.max(stream.openedAt, this.lastReplyByWorker.get(stream.id % PEER_FRAME_WORKERS) ?? 0);
  }

  /** Opens a stream; its frames may be written at once (they follow the SYN_STREAM on the wire). */
  openStream(headers: Headers): SpdyStream {
    if (!this.usable) throw new Error('the SPDY session is closed');
    const id = this.nextStreamId;
    this.nextStreamId += 2;
    const stream = new SpdyStream(id, this, this.peerInitialWindow, this.bufferBytes);
    this.streams.set(id, stream);
    // Compression keeps call order, so SYN_STREAMs go out in stream-id order as SPDY requires.
    stream.opened = this.compressor.compress(headers).then(
      (block) => void this.write(encodeSynStream(id, block, false)),
      (error: Error) => this.end(error),
    );
    return stream;
  }

  /** Takes no new streams, and closes once the open ones have ended. */
  retire(): void {
    this.retiring = true;
    this.closeIfRetired();
  }

  /** Says GOAWAY and closes the connection; open streams end as lost. */
  close(): void {
    if (this.closedWith) return;
    this.write(encodeGoAway(this.lastPeerStreamId, 0));
    this.end(undefined);
  }

  sendData(stream: SpdyStream, chunk: Buffer, callback: (error?: Error | null) => void): void {
    void stream.opened.then(() => this.sendFrom(stream, chunk, 0, callback));
  }

  private sendFrom(stream: SpdyStream, chunk: Buffer, offset: number, callback: (error?: Error | null) => void): void {
    if (this.closedWith || stream.ending || stream.localFin) return callback();
    let writable = true;
    while (offset < chunk.length) {
      let size = Math.min(MAX_DATA_FRAME, chunk.length - offset);
      if (this.peerKeepsWindows) size = Math.min(size, stream.sendWindow, this.sessionSendWindow);
      if (size <= 0) {
        stream.waitingForWindow = () => this.sendFrom(stream, chunk, offset, callback);
        return;
      }
      stream.sendWindow -= size;
      this.sessionSendWindow -= size;
      writable = this.write(encodeData(stream.id, chunk.subarray(offset, offset + size), false));
      offset += size;
    }
    if (writable) callback();
    else this.drainWaiters.push(() => callback());
  }

  sendFin(stream: SpdyStream): void {
    if (stream.localFin) return;
    stream.localFin = true;
    void stream.opened.then(() => {
      if (this.closedWith || stream.ending) return;
      this.write(encodeData(stream.id, Buffer.alloc(0), true));
      this.forgetIfDone(stream);
    });
  }

  readerHasRoom(stream: SpdyStream): void {
    this.giveCredit(stream);
    if (this.backedUp.delete(stream) && this.backedUp.size === 0) this.transport.resume();
  }

  /** The stream was destroyed locally: a stream still open at either end is reset. */
  dropStream(stream: SpdyStream): void {
    this.backedUp.delete(stream);
    if (this.backedUp.size === 0 && !this.closedWith) this.transport.resume();
    if (!this.streams.has(stream.id)) return;
    this.streams.delete(stream.id);
    if (!(stream.localFin && stream.remoteFin) && !stream.ending) {
      stream.ending = { kind: 'reset', status: RST.cancel };
      void stream.opened.then(() => !this.closedWith && this.write(encodeRstStream(stream.id, RST.cancel)));
    }
    this.closeIfRetired();
  }

  private forgetIfDone(stream: SpdyStream): void {
    if (!(stream.localFin && stream.remoteFin)) return;
    this.streams.delete(stream.id);
    this.closeIfRetired();
  }

  private closeIfRetired(): void {
    if (this.retiring && this.streams.size === 0) void Promise.resolve().then(() => this.close());
  }

  private write(frame: Buffer): boolean {
    if (this.transport.destroyed) return true;
    return this.transport.write(frame);
  }

  private drained(): void {
    for (const waiter of this.drainWaiters.splice(0)) waiter();
  }

  private received(chunk: Buffer): void {
    this.lastHeard = Date.now();
    let frames: Frame[];
    try {
      frames = this.decoder.push(chunk);
    } catch (error) {
      return this.protocolError(error as Error);
    }
    for (const frame of frames) {
      if (this.closedWith) return;
      this.handle(frame);
    }
  }

  private handle(frame: Frame): void {
    switch (frame.kind) {
      case 'data':
        return this.receivedData(frame.streamId, frame.data, frame.fin);
      case 'syn-reply':
      case 'headers':
        // Nothing in a reply's headers matters to port-forward, but every block must pass through the decompressor.
        this.decompress(frame.headerBlock);
        if (frame.kind === 'syn-reply') {
          this.lastReplyByWorker.set(frame.streamId % PEER_FRAME_WORKERS, Date.now());
          this.streams.get(frame.streamId)?.replied();
        }
        if (frame.fin) this.remoteFinished(frame.streamId);
        return;
      case 'syn-stream':
        // The peer may not push streams to a port-forward client.
        this.decompress(frame.headerBlock);
        this.lastPeerStreamId = Math.max(this.lastPeerStreamId, frame.streamId);
        this.write(encodeRstStream(frame.streamId, RST.refusedStream));
        return;
      case 'rst-stream':
        this.streams.get(frame.streamId)?.endReadable({ kind: 'reset', status: frame.status });
        return this.forget(frame.streamId);
      case 'settings': {
        const initial = frame.values.get(SETTINGS_INITIAL_WINDOW_SIZE);
        if (initial === undefined) return;
        this.peerKeepsWindows = true;
        const delta = initial - this.peerInitialWindow;
        this.peerInitialWindow = initial;
        for (const stream of this.streams.values()) stream.sendWindow += delta;
        return this.windowsGrew();
      }
      case 'window-update':
        this.peerKeepsWindows = true;
        if (frame.streamId === 0) this.sessionSendWindow += frame.delta;
        else {
          const stream = this.streams.get(frame.streamId);
          if (stream) stream.sendWindow += frame.delta;
        }
        return this.windowsGrew();
      case 'ping':
        // Odd ids are nh's own pings coming back; even ones are the peer's, to be echoed.
        if (frame.id % 2 === 0) this.write(encodePing(frame.id));
        return;
      case 'goaway':
        this.goneAway = true;
        // Streams the peer never took will not be served.
        for (const stream of this.streams.values()) {
          if (stream.id > frame.lastGoodStreamId) {
            stream.endReadable({ kind: 'session-lost', message: 'the kubelet closed the port-forward session' });
            this.forget(stream.id);
          }
        }
        if (this.streams.size === 0) this.end(new Error('the kubelet closed the port-forward session (GOAWAY)'));
        return;
      case 'unknown':
        return;
    }
  }

  private receivedData(streamId: number, data: Buffer, fin: boolean): void {
    this.sessionReceivedSinceUpdate += data.length;
    if (this.sessionReceivedSinceUpdate >= RECEIVE_WINDOW / 2) {
      this.write(encodeWindowUpdate(0, this.sessionReceivedSinceUpdate));
      this.sessionReceivedSinceUpdate = 0;
    }
    const stream = this.streams.get(streamId);
    // Data for a stream nh already closed or reset: nobody reads it.
    if (!stream || stream.remoteFin) return;
    if (data.length > 0) {
      stream.receivedSinceUpdate += data.length;
      if (stream.push(data)) this.giveCredit(stream, RECEIVE_WINDOW / 2);
      else if (!this.backedUp.has(stream)) {
        this.backedUp.add(stream);
        this.transport.pause();
      }
    }
    if (fin) this.remoteFinished(streamId);
  }

  /** Gives the peer back the window for what the stream's reader took (once at least `threshold` is owed). */
  private giveCredit(stream: SpdyStream, threshold = 1): void {
    if (stream.receivedSinceUpdate < threshold || stream.remoteFin || this.closedWith) return;
    this.write(encodeWindowUpdate(stream.id, stream.receivedSinceUpdate));
    stream.receivedSinceUpdate = 0;
  }

  private remoteFinished(streamId: number): void {
    const stream = this.streams.get(streamId);
    if (!stream) return;
    stream.endReadable(undefined);
    this.forgetIfDone(stream);
  }

  private forget(streamId: number): void {
    const stream = this.streams.get(streamId);
    if (!stream) return;
    this.streams.delete(streamId);
    this.backedUp.delete(stream);
    stream.waitingForWindow = undefined;
    if (this.goneAway && this.streams.size === 0) this.end(new Error('the kubelet closed the port-forward session (GOAWAY)'));
    this.closeIfRetired();
  }

  private windowsGrew(): void {
    if (this.sessionSendWindow <= 0) return;
    for (const stream of this.streams.values()) {
      if (stream.sendWindow <= 0 || !stream.waitingForWindow) continue;
      const resume = stream.waitingForWindow;
      stream.waitingForWindow = undefined;
      resume();
    }
  }

  private decompress(block: Buffer): void {
    this.decompressor.decompress(block).catch((error: Error) => this.protocolError(new SpdyProtocolError(`a header block that does not decompress: ${error.message}`)));
  }

  private protocolError(error: Error): void {
    if (this.closedWith) return;
    this.write(encodeGoAway(this.lastPeerStreamId, 1));
    this.end(error);
  }

  private tick(): void {
    const now = Date.now();
    // A late tick means nh did not run (SIGSTOP, a sleeping laptop), and while a slow local reader holds the
    // transport paused nh hears nothing by its own choice: neither silence is the peer's fault.
    if (now - this.lastTick > 2 * this.pingMs || this.backedUp.size > 0) this.lastHeard = now;
    this.lastTick = now;
    if (now - this.lastHeard > 3 * this.pingMs) {
      return this.end(new Error(`no answer to pings for ${(3 * this.pingMs) / 1000} s`));
    }
    this.write(encodePing(this.nextPingId));
    this.nextPingId = (this.nextPingId + 2) % 0x7fffffff;
  }

  private end(error: Error | undefined): void {
    if (this.closedWith) return;
    this.closedWith = { error };
    clearInterval(this.pingTimer);
    const message = error ? `the port-forward session ended: ${error.message}` : 'the port-forward session was closed';
    for (const stream of this.streams.values()) {
      stream.endReadable({ kind: 'session-lost', message });
      stream.waitingForWindow = undefined;
    }
    this.streams.clear();
    this.backedUp.clear();
    this.drained();
    if (error) this.transport.destroy();
    else this.transport.end();
    this.compressor.close();
    this.decompressor.close();
    this.options.onClose?.(error);
  }
}
