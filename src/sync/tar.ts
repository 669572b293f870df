/**
 * Tar headers, pure: ustar with a PAX extended header for names and link targets that do not fit, and
 * GNU base-256 numbers for sizes of 8 GiB and more. GNU tar and busybox tar (≥1.20) both read these. Entry names go through assertSafePath first.
 */
import { assertSafePath } from './paths.js';
import type { TreeEntry } from './tree.js';

const encoder = new TextEncoder();

export const BLOCK = 512;
const NAME_FIELD = 100;
const PREFIX_FIELD = 155;
/** The two zero blocks that end an archive. */
export const TAR_END = new Uint8Array(2 * BLOCK);

export type TarEntry = Pick<TreeEntry, 'path' | 'kind' | 'mode' | 'size' | 'mtimeMs' | 'target'>;

/** Zero bytes that pad `size` up to a whole block. */
export function paddingOf(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}

/** Header block(s) of one entry; a file's content (then its padding) follows. */
export function tarHeader(entry: TarEntry): Uint8Array {
  if (entry.kind === 'other') throw new Error(`cannot archive ${entry.path}: not a file, directory or symlink`);
  const name = assertSafePath(entry.path) + (entry.kind === 'dir' ? '/' : '');
  const target = entry.kind === 'link' ? (entry.target ?? '') : '';
  const split = splitName(name);
  const pax: [string, string][] = [];
  if (!split) pax.push(['path', name]);
  if (byteLength(target) > NAME_FIELD) pax.push(['linkpath', target]);
  const main = ustarBlock({
    // With a PAX path the name field is informational; the field cuts it to 100 bytes.
    name: split?.name ?? name,
    prefix: split?.prefix ?? '',
    mode: entry.mode & 0o7777,
    size: entry.kind === 'file' ? entry.size : 0,
    mtime: Math.floor(entry.mtimeMs / 1000),
    type: entry.kind === 'file' ? '0' : entry.kind === 'dir' ? '5' : '2',
    linkname: byteLength(target) > NAME_FIELD ? '' : target,
  });
  if (pax.length === 0) return main;
  const body = encoder.encode(pax.map(([k, v]) => paxRecord(k, v)).join(''));
  const paxHeader = ustarBlock({ name: 'PaxHeader', prefix: '', mode: 0o644, size: body.length, mtime: 0, type: 'x', linkname: '' });
  const out = new Uint8Array(BLOCK + body.length + paddingOf(body.length) + BLOCK);
  out.set(paxHeader, 0);
  out.set(body, BLOCK);
  out.set(main, out.length - BLOCK);
  return out;
}

/** Bytes an archive of these entries takes, end blocks included: the agent reads exactly this many. */
export function archiveSize(entries: readonly TarEntry[]): number {
  let total = TAR_END.length;
  for (const e of entries) {
    // Most names fit the ustar fields: one block, no need to build it here.
    const fits = e.kind !== 'other' && splitName(e.path + (e.kind === 'dir' ? '/' : '')) !== undefined && byteLength(e.target ?? '') <= NAME_FIELD;
    total += fits ? BLOCK : tarHeader(e).length;
    if (e.kind === 'file') total += e.size + paddingOf(e.size);
  }
  return total;
}

/** A PAX record is `<len> <key>=<value>\n`, where len counts itself. */
export function paxRecord(key: string, value: string): string {
  const rest = ` ${key}=${value}\n`;
  const restBytes = byteLength(rest);
  let len = restBytes + 1;
  while (String(len).length + restBytes !== len) len = String(len).length + restBytes;
  return `${len}${rest}`;
}

interface UstarFields {
  readonly name: string;
  readonly prefix: string;
  readonly mode: number;
  readonly size: number;
  readonly mtime: number;
  readonly type: string;
  readonly linkname: string;
}

/** The fields every header shares: uid and gid 0 (owned by whoever extracts), the ustar magic. */
const TEMPLATE = (() => {
  const block = new Uint8Array(BLOCK);
  writeOctal(block, 108, 8, 0);
  writeOctal(block, 116, 8, 0);
  encoder.encodeInto('ustar\u000000', block.subarray(257, 265));
  return block;
})();

function ustarBlock(f: UstarFields): Uint8Array {
  const block = TEMPLATE.slice();
  encoder.encodeInto(f.name, block.subarray(0, NAME_FIELD));
  writeOctal(block, 100, 8, f.mode);
  writeNumber(block, 124, 12, f.size);
  writeNumber(block, 136, 12, f.mtime);
  block[156] = f.type.charCodeAt(0);
  if (f.linkname) encoder.encodeInto(f.linkname, block.subarray(157, 157 + NAME_FIELD));
  if (f.prefix) encoder.encodeInto(f.prefix, block.subarray(345, 345 + PREFIX_FIELD));
  // The checksum is computed with its own field as spaces: 8 × 0x20 = 256.
  let sum = 256;
  for (let i = 0; i < BLOCK; i++) sum += block[i]!;
  writeOctal(block, 148, 7, sum);
  block[155] = 0x20;
  return block;
}

/**
 * A number in a header field: zero-padded octal of length-1 digits, then NUL; a number too large for that (a
 * file of 8 GiB or more) in GNU's base-256: 0x80, then the number in big-endian binary. Both GNU tar and
 * busybox tar read base-256; busybox ignores a PAX `size` record, so that extension would not do.
 */
function writeNumber(block: Uint8Array, offset: number, length: number, value: number): void {
  if (value < 8 ** (length - 1)) {
    writeOctal(block, offset, length, value);
    return;
  }
  let rest = value;
  for (let i = offset + length - 1; i > offset; i--) {
    block[i] = rest % 256;
    rest = Math.floor(rest / 256);
  }
  block[offset] = 0x80;
}

/** A zero-padded octal number of length-1 digits, then NUL. */
function writeOctal(block: Uint8Array, offset: number, length: number, value: number): void {
  let rest = value;
  for (let i = offset + length - 2; i >= offset; i--) {
    block[i] = 0x30 + (rest % 8);
    rest = Math.floor(rest / 8);
  }
  block[offset + length - 1] = 0;
}

/** ustar's name/prefix split at a slash, or undefined when the name needs a PAX header. */
function splitName(name: string): { name: string; prefix: string } | undefined {
  if (byteLength(name) <= NAME_FIELD) return { name, prefix: '' };
  const body = name.endsWith('/') ? name.slice(0, -1) : name;
  for (let i = body.indexOf('/'); i >= 0; i = body.indexOf('/', i + 1)) {
    const prefix = name.slice(0, i);
    const rest = name.slice(i + 1);
    if (byteLength(prefix) <= PREFIX_FIELD && byteLength(rest) <= NAME_FIELD) return { name: rest, prefix };
  }
  return undefined;
}

function byteLength(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}
