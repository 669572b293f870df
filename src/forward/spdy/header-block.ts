/**
 * SPDY/3 header blocks: name/value pairs (a 32-bit count, then 32-bit length + bytes for each name and value;
 * names lowercase, several values of one name joined by NUL), compressed with zlib and the SPDY/3 dictionary.
 * Each direction of a session is ONE zlib stream, every block ending with a sync flush, so blocks must be
 * compressed and decompressed in the order they go on the wire: HeaderCompressor and HeaderDecompressor keep
 * that order themselves.
 */
import type { Deflate, Inflate } from 'node:zlib';

export type Headers = ReadonlyMap<string, string>;

/** The dictionary of SPDY/3 §2.6.10.1: length-prefixed names and values, then common text. */
const DICTIONARY_WORDS = ['options', 'head', 'post', 'put', 'delete', 'trace', 'accept', 'accept-charset', 'accept-encoding',
  'accept-language', 'accept-ranges', 'age', 'allow', 'authorization', 'cache-control', 'connection', 'content-base',
  'content-encoding', 'content-language', 'content-length', 'content-location', 'content-md5', 'content-range',
  'content-type', 'date', 'etag', 'expect', 'expires', 'from', 'host', 'if-match', 'if-modified-since', 'if-none-match',
  'if-range', 'if-unmodified-since', 'last-modified', 'location', 'max-forwards', 'pragma', 'proxy-authenticate',
  'proxy-authorization', 'range', 'referer', 'retry-after', 'server', 'te', 'trailer', 'transfer-encoding', 'upgrade',
  'user-agent', 'vary', 'via', 'warning', 'www-authenticate', 'method', 'get', 'status', '200 OK', 'version', 'HTTP/1.1',
  'url', 'public', 'set-cookie', 'keep-alive', 'origin'];
const DICTIONARY_TAIL = '100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505'
  + '203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request401 Unauthorized403 Forbidden'
  + '404 Not Found500 Internal Server Error501 Not Implemented503 Service UnavailableJan Feb Mar Apr May Jun Jul Aug'
  + ' Sept Oct Nov Dec 00:00:00 Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMTchunked,text/html,image/png,image/jpg,image/gif,'
  + 'application/xml,application/xhtml+xml,text/plain,text/javascript,publicprivatemax-age=gzip,deflate,sdch'
  + 'charset=utf-8charset=iso-8859-1,utf-,*,enq=0.';

let dictionary: Buffer | undefined;
export function spdyDictionary(): Buffer {
  dictionary ??= Buffer.concat([...DICTIONARY_WORDS.map((word) => lengthPrefixed(Buffer.from(word, 'latin1'))), Buffer.from(DICTIONARY_TAIL, 'latin1')]);
  return dictionary;
}

function lengthPrefixed(bytes: Buffer): Buffer {
  const length = Buffer.allocUnsafe(4);
  length.writeUInt32BE(bytes.length, 0);
  return Buffer.concat([length, bytes]);
}

/** The uncompressed block. */
export function serializeHeaders(headers: Headers): Buffer {
  const parts: Buffer[] = [Buffer.alloc(4)];
  parts[0]!.writeUInt32BE(headers.size, 0);
  for (const [name, value] of headers) parts.push(lengthPrefixed(Buffer.from(name.toLowerCase())), lengthPrefixed(Buffer.from(value)));
  return Buffer.concat(parts);
}

/** Reads an uncompressed block; throws on one that is cut short. */
export function parseHeaders(block: Buffer): Map<string, string> {
  const headers = new Map<string, string>();
  let at = 0;
  const take = (): Buffer => {
    if (at + 4 > block.length) throw new RangeError('a header block cut short');
    const length = block.readUInt32BE(at);
    if (at + 4 + length > block.length) throw new RangeError('a header block cut short');
    const bytes = block.subarray(at + 4, at + 4 + length);
    at += 4 + length;
    return bytes;
  };
  if (block.length < 4) throw new RangeError('a header block cut short');
  const count = block.readUInt32BE(0);
  at = 4;
  for (let i = 0; i < count; i++) {
    const name = take().toString('latin1');
    headers.set(name, take().toString('latin1'));
  }
  return headers;
}

/**
 * One zlib stream of a session's direction. Blocks run through it one at a time: a sync flush's output
 * belongs to the block just written, so two blocks in flight at once would mix.
 */
class OrderedZlib {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly stream: Deflate | Inflate,
    private readonly syncFlush: number,
  ) {}

  run(input: Buffer): Promise<Buffer> {
    const result = this.queue.then(() => this.flushThrough(input));
    this.queue = result.catch(() => undefined);
    return result;
  }

  close(): void {
    this.stream.destroy();
  }

  private flushThrough(input: Buffer): Promise<Buffer> {
    const { stream } = this;
    return new Promise((resolve, reject) => {
      const output: Buffer[] = [];
      const collect = (chunk: Buffer) => output.push(chunk);
      const fail = (error: Error) => {
        stream.off('data', collect);
        reject(error);
      };
      stream.on('data', collect);
      stream.once('error', fail);
      stream.write(input);
      stream.flush(this.syncFlush, () => {
        stream.off('data', collect);
        stream.off('error', fail);
        resolve(Buffer.concat(output));
      });
    });
  }
}

/** Compresses the blocks nh sends, in the order compress() is called. */
export class HeaderCompressor {
  private constructor(private readonly zlib: OrderedZlib) {}

  static async create(): Promise<HeaderCompressor> {
    const zlib = await import('node:zlib');
    return new HeaderCompressor(new OrderedZlib(zlib.createDeflate({ dictionary: spdyDictionary(), level: zlib.constants.Z_BEST_COMPRESSION }), zlib.constants.Z_SYNC_FLUSH));
  }

  compress(headers: Headers): Promise<Buffer> {
    return this.zlib.run(serializeHeaders(headers));
  }

  close(): void {
    this.zlib.close();
  }
}

/** Decompresses the peer's blocks: every one, in order, even those whose headers nh does not need. */
export class HeaderDecompressor {
  private constructor(private readonly zlib: OrderedZlib) {}

  static async create(): Promise<HeaderDecompressor> {
    const zlib = await import('node:zlib');
    return new HeaderDecompressor(new OrderedZlib(zlib.createInflate({ dictionary: spdyDictionary() }), zlib.constants.Z_SYNC_FLUSH));
  }

  async decompress(block: Buffer): Promise<Map<string, string>> {
    return parseHeaders(await this.zlib.run(block));
  }

  close(): void {
    this.zlib.close();
  }
}
