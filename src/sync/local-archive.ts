/**
 * The tar archive a put sends, read from local files as it is sent. A file nh cannot read is left out, never
 * sent as zeros: tar would write those over the container's copy with the right size and mtime, and the quick
 * check (size and mtime) would then never repair it.
 */
import { closeSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { NhError } from '../errors.js';
import { readAsync, type OpenFile } from './local-tree.js';
import { archiveSize, paddingOf, TAR_END, tarHeader } from './tar.js';
import type { TreeEntry } from './tree.js';

const CHUNK_BYTES = 1024 * 1024;
/** Files up to this size are read whole, synchronously, into the chunk that holds their header. */
const SMALL_FILE_BYTES = 256 * 1024;
/** open(2) and read(2) errors of a path that vanished or changed kind since it was listed. */
const GONE_CODES = new Set(['ENOENT', 'ENOTDIR', 'ELOOP', 'EISDIR']);

/** A file left out of a put (or, read error midway through a large file, sent damaged): tried again later. */
export class UnreadableFileError extends NhError {
  /** Vanished or changed kind since it was listed: its own watcher event follows, nothing to tell the user. */
  readonly gone: boolean;

  constructor(
    readonly path: string,
    cause: unknown,
  ) {
    const code = (cause as NodeJS.ErrnoException | undefined)?.code;
    const why = code === 'EACCES' || code === 'EPERM' ? 'permission denied' : (code ?? (cause as Error).message);
    super('NH_SYNC_UNREADABLE', `cannot read ${path} (${why}): not sent, the container's copy stays as it was`, {
      cause,
      hint: `make it readable (chmod u+r ${path}) and it is sent at once, or leave it out with ignoreFilePattern`,
    });
    this.name = 'UnreadableFileError';
    this.gone = code !== undefined && GONE_CODES.has(code);
  }
}

export interface LocalArchive {
  /** Bytes the archive takes: the agent reads exactly this many. */
  readonly size: number;
  /**
   * The archive's bytes, all in one reused buffer: a chunk holds until the next one is asked for. A fresh
   * buffer per chunk left garbage as large as the put (tens of MiB for a large batch), freed only at V8's
   * next full GC and kept by malloc afterwards.
   */
  readonly chunks: AsyncGenerator<Uint8Array>;
}

/**
 * An archive of the entries that can be read, in chunks of about 1 MiB (one WebSocket message per small file
 * would cost more in framing than in bytes). Each file sent contributes exactly the size it was listed with: a
 * file that grew is cut, one that shrank is padded; its change event sends it again. A file that cannot be
 * opened or read is reported and gets no header; zeros after the end blocks, where tar reads no more, keep
 * the announced size. Large files are opened before the size is announced, so that leaving one out costs no
 * padding.
 */
export function localArchive(root: string, entries: readonly TreeEntry[], open: OpenFile, onUnreadable: (error: UnreadableFileError) => void): LocalArchive {
  const readable = entries.filter((entry) => {
    if (entry.kind !== 'file' || entry.size <= SMALL_FILE_BYTES) return true;
    const problem = readProblem(join(root, entry.path), open);
    if (problem) onUnreadable(new UnreadableFileError(entry.path, problem));
    return !problem;
  });
  return { size: archiveSize(readable), chunks: archiveChunks(root, readable, open, onUnreadable) };
}

/** Why the file's first byte cannot be read, or undefined when it can. */
function readProblem(file: string, open: OpenFile): Error | undefined {
  try {
    const fd = open(file);
    try {
      readSync(fd, Buffer.alloc(1), 0, 1, 0);
    } finally {
      closeSync(fd);
    }
    return undefined;
  } catch (error) {
    return error as Error;
  }
}

async function* archiveChunks(root: string, entries: readonly TreeEntry[], open: OpenFile, onUnreadable: (error: UnreadableFileError) => void): AsyncGenerator<Uint8Array> {
  const chunk = Buffer.allocUnsafe(CHUNK_BYTES);
  let used = 0;
  /** Bytes of the entries left out: sent as zeros after the end blocks. */
  let leftOut = 0;
  /** Room for at least `bytes` more (or a whole empty chunk); yields the full chunk first when needed. */
  function* reserve(bytes: number): Generator<Uint8Array> {
    if (used > 0 && used + bytes > chunk.length) {
      yield chunk.subarray(0, used);
      used = 0;
    }
  }
  /** Appends data, or that many zero bytes when given a count. */
  const append = function* (data: Uint8Array | number): Generator<Uint8Array> {
    const length = typeof data === 'number' ? data : data.length;
    for (let offset = 0; offset < length; ) {
      yield* reserve(Math.min(length - offset, CHUNK_BYTES));
      const n = Math.min(length - offset, chunk.length - used);
      if (typeof data === 'number') chunk.fill(0, used, used + n);
      else chunk.set(data.subarray(offset, offset + n), used);
      used += n;
      offset += n;
    }
  };
  const leaveOut = (entry: TreeEntry, header: Uint8Array, error: unknown) => {
    onUnreadable(new UnreadableFileError(entry.path, error));
    leftOut += header.length + entry.size + paddingOf(entry.size);
  };
  for (const entry of entries) {
    const header = tarHeader(entry);
    if (entry.kind !== 'file') {
      yield* append(header);
      continue;
    }
    let fd: number;
    try {
      fd = open(join(root, entry.path));
    } catch (error) {
      leaveOut(entry, header, error);
      continue;
    }
    try {
      let sent = 0;
      if (entry.size <= SMALL_FILE_BYTES) {
        // Read synchronously: on ten thousand small files the thread pool's round trips (open, read,
        // close) cost 3× the bytes (0.85 s against 0.25 s for 10,000 files of 10 KiB); each read is short.
        // The header is placed, not yet counted: a read that fails leaves no trace of the file.
        yield* reserve(header.length + entry.size);
        chunk.set(header, used);
        try {
          sent = readWhole(fd, chunk, used + header.length, entry.size);
        } catch (error) {
          leaveOut(entry, header, error);
          continue;
        }
        used += header.length + sent;
      } else {
        yield* append(header);
        try {
          while (sent < entry.size) {
            if (used === chunk.length) yield* reserve(1);
            const { bytesRead } = await readAsync(fd, chunk, used, Math.min(chunk.length - used, entry.size - sent), null);
            if (bytesRead === 0) break;
            used += bytesRead;
            sent += bytesRead;
          }
        } catch (error) {
          // Its header is out: the copy is damaged. Reported, so that the session sends it again and hashes
          // it in the next delta rather than trusting its size and mtime.
          onUnreadable(new UnreadableFileError(entry.path, error));
        }
      }
      yield* append(entry.size - sent + paddingOf(entry.size));
    } finally {
      closeSync(fd);
    }
  }
  yield* append(TAR_END);
  yield* append(leftOut);
  if (used > 0) yield chunk.subarray(0, used);
}

/** Reads up to `size` bytes into buffer at offset; returns how many (fewer when the file shrank). */
function readWhole(fd: number, buffer: Buffer, offset: number, size: number): number {
  let read = 0;
  while (read < size) {
    const bytesRead = readSync(fd, buffer, offset + read, size - read, null);
    if (bytesRead === 0) break;
    read += bytesRead;
  }
  return read;
}
