/**
 * SPDY/3.1 framing, pure: the frames the Kubernetes port-forward endpoint speaks (moby/spdystream behind the
 * API server, kubelet and container runtime), encoded and decoded byte for byte. Header blocks stay opaque
 * here (zlib-compressed; header-block.ts); flow control and stream state belong to the session.
 *
 * Every frame has an 8-byte header. Control: bit 1, version (15 bits) = 3, type (16), flags (8), length (24).
 * Data: bit 0, stream id (31), flags (8), length (24).
 */

export const SPDY_VERSION = 3;
/** The largest payload the 24-bit length field allows. */
export const MAX_FRAME_PAYLOAD = 0xffffff;
/** SPDY/3.1's initial window, per stream and for the session, until SETTINGS or WINDOW_UPDATE say more. */
export const DEFAULT_WINDOW = 64 * 1024;

const TYPE = { synStream: 1, synReply: 2, rstStream: 3, settings: 4, ping: 6, goAway: 7, headers: 8, windowUpdate: 9 } as const;
const FLAG_FIN = 0x01;
export const SETTINGS_INITIAL_WINDOW_SIZE = 7;

/** RST_STREAM status codes (SPDY/3 §2.6.3). */
export const RST = { protocolError: 1, invalidStream: 2, refusedStream: 3, cancel: 5, internalError: 6, flowControlError: 7 } as const;

export type Frame =
  | { readonly kind: 'data'; readonly streamId: number; readonly fin: boolean; readonly data: Buffer }
  | { readonly kind: 'syn-stream'; readonly streamId: number; readonly fin: boolean; readonly headerBlock: Buffer }
  | { readonly kind: 'syn-reply'; readonly streamId: number; readonly fin: boolean; readonly headerBlock: Buffer }
  | { readonly kind: 'headers'; readonly streamId: number; readonly fin: boolean; readonly headerBlock: Buffer }
  | { readonly kind: 'rst-stream'; readonly streamId: number; readonly status: number }
  | { readonly kind: 'settings'; readonly values: ReadonlyMap<number, number> }
  | { readonly kind: 'ping'; readonly id: number }
  | { readonly kind: 'goaway'; readonly lastGoodStreamId: number; readonly status: number }
  | { readonly kind: 'window-update'; readonly streamId: number; readonly delta: number }
  /** A control frame of a type SPDY/3.1 does not define: the spec says to ignore it. */
  | { readonly kind: 'unknown'; readonly type: number };

/** The peer broke the framing: the session cannot go on. */
export class SpdyProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SpdyProtocolError';
  }
}

function controlFrame(type: number, flags: number, payload: Buffer): Buffer {
  const frame = Buffer.allocUnsafe(8 + payload.length);
  frame.writeUInt16BE(0x8000 | SPDY_VERSION, 0);
  frame.writeUInt16BE(type, 2);
  frame.writeUInt32BE(((flags & 0xff) << 24) | payload.length, 4);
  payload.copy(frame, 8);
  return frame;
}

function words(...values: number[]): Buffer {
  const payload = Buffer.allocUnsafe(4 * values.length);
  values.forEach((value, i) => payload.writeUInt32BE(value >>> 0, 4 * i));
  return payload;
}

export function encodeData(streamId: number, data: Buffer, fin: boolean): Buffer {
  if (data.length > MAX_FRAME_PAYLOAD) throw new RangeError(`a DATA frame holds at most ${MAX_FRAME_PAYLOAD} bytes`);
  const frame = Buffer.allocUnsafe(8 + data.length);
  frame.writeUInt32BE(streamId & 0x7fffffff, 0);
  frame.writeUInt32BE(((fin ? FLAG_FIN : 0) << 24) | data.length, 4);
  data.copy(frame, 8);
  return frame;
}

/** Stream id, associated-to 0, priority 0 and slot 0 (what client-go sends), then the compressed header block. */
export function encodeSynStream(streamId: number, headerBlock: Buffer, fin: boolean): Buffer {
  const fixed = Buffer.alloc(10);
  fixed.writeUInt32BE(streamId & 0x7fffffff, 0);
  return controlFrame(TYPE.synStream, fin ? FLAG_FIN : 0, Buffer.concat([fixed, headerBlock]));
}

export function encodeSynReply(streamId: number, headerBlock: Buffer, fin: boolean): Buffer {
  return controlFrame(TYPE.synReply, fin ? FLAG_FIN : 0, Buffer.concat([words(streamId & 0x7fffffff), headerBlock]));
}

export function encodeRstStream(streamId: number, status: number): Buffer {
  return controlFrame(TYPE.rstStream, 0, words(streamId & 0x7fffffff, status));
}

/** Settings as id → value; none persisted. */
export function encodeSettings(values: ReadonlyMap<number, number>): Buffer {
  const entries = [...values].flatMap(([id, value]) => [id & 0xffffff, value]);
  return controlFrame(TYPE.settings, 0, words(values.size, ...entries));
}

export function encodePing(id: number): Buffer {
  return controlFrame(TYPE.ping, 0, words(id));
}

export function encodeGoAway(lastGoodStreamId: number, status: number): Buffer {
  return controlFrame(TYPE.goAway, 0, words(lastGoodStreamId & 0x7fffffff, status));
}

/** streamId 0 is the session's own window (SPDY/3.1). */
export function encodeWindowUpdate(streamId: number, delta: number): Buffer {
  return controlFrame(TYPE.windowUpdate, 0, words(streamId & 0x7fffffff, delta & 0x7fffffff));
}

/**
 * Cuts a byte stream into frames: push() whatever arrived, get back every frame it completed; a frame split
 * across chunks waits for the rest. Throws SpdyProtocolError on a frame that cannot be valid.
 */
export class FrameDecoder {
  private pending: Buffer[] = [];
  private pendingLength = 0;

  push(chunk: Buffer): Frame[] {
    this.pending.push(chunk);
    this.pendingLength += chunk.length;
    if (this.pendingLength < 8) return [];
    let data = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingLength);
    const frames: Frame[] = [];
    while (data.length >= 8) {
      const length = data.readUInt32BE(4) & 0xffffff;
      if (data.length < 8 + length) break;
      frames.push(decodeFrame(data.subarray(0, 8 + length)));
      data = data.subarray(8 + length);
    }
    this.pending = data.length ? [data] : [];
    this.pendingLength = data.length;
    return frames;
  }
}

function decodeFrame(frame: Buffer): Frame {
  const first = frame.readUInt32BE(0);
  const flags = frame[4]!;
  const payload = frame.subarray(8);
  const fin = (flags & FLAG_FIN) !== 0;
  if ((first & 0x80000000) === 0) {
    const streamId = first & 0x7fffffff;
    if (streamId === 0) throw new SpdyProtocolError('a DATA frame for stream 0');
    // Copied: the payload outlives the chunk it arrived in, which the decoder may keep and concatenate.
    return { kind: 'data', streamId, fin, data: Buffer.from(payload) };
  }
  const version = (first >>> 16) & 0x7fff;
  if (version !== SPDY_VERSION) throw new SpdyProtocolError(`SPDY version ${version}, not 3`);
  const type = first & 0xffff;
  const need = (bytes: number) => {
    if (payload.length < bytes) throw new SpdyProtocolError(`a control frame of type ${type} with ${payload.length} bytes`);
  };
  const streamIdAt = (offset: number) => payload.readUInt32BE(offset) & 0x7fffffff;
  switch (type) {
    case TYPE.synStream:
      need(10);
      return { kind: 'syn-stream', streamId: streamIdAt(0), fin, headerBlock: Buffer.from(payload.subarray(10)) };
    case TYPE.synReply:
      need(4);
      return { kind: 'syn-reply', streamId: streamIdAt(0), fin, headerBlock: Buffer.from(payload.subarray(4)) };
    case TYPE.headers:
      need(4);
      return { kind: 'headers', streamId: streamIdAt(0), fin, headerBlock: Buffer.from(payload.subarray(4)) };
    case TYPE.rstStream:
      need(8);
      return { kind: 'rst-stream', streamId: streamIdAt(0), status: payload.readUInt32BE(4) };
    case TYPE.settings: {
      need(4);
      const count = payload.readUInt32BE(0);
      need(4 + 8 * count);
      const values = new Map<number, number>();
      for (let i = 0; i < count; i++) values.set(payload.readUInt32BE(4 + 8 * i) & 0xffffff, payload.readUInt32BE(8 + 8 * i));
      return { kind: 'settings', values };
    }
    case TYPE.ping:
      need(4);
      return { kind: 'ping', id: payload.readUInt32BE(0) };
    case TYPE.goAway:
      need(4);
      return { kind: 'goaway', lastGoodStreamId: streamIdAt(0), status: payload.length >= 8 ? payload.readUInt32BE(4) : 0 };
    case TYPE.windowUpdate:
      need(8);
      return { kind: 'window-update', streamId: streamIdAt(0), delta: payload.readUInt32BE(4) & 0x7fffffff };
    default:
      return { kind: 'unknown', type };
  }
}
