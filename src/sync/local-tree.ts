/**
 * The local side: walking the sync root and hashing its files (local-archive.ts reads them for a put).
 * Nothing outside the root is read: the walk never follows a symlink (it is synced as a link), and files are opened with O_NOFOLLOW.
 */
import { closeSync, constants, openSync, read, type Stats } from 'node:fs';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { NhError } from '../errors.js';
import { pathProblem } from './paths.js';
import type { SyncRules } from './rules.js';
import { kindOfMode, type TreeEntry } from './tree.js';
import { mapLimit } from '../util/map-limit.js';

export interface Unsupported {
  readonly path: string;
  readonly reason: string;
}

export interface LocalScan {
  readonly tree: Map<string, TreeEntry>;
  /** The rules with every .gitignore found on the way (gitIgnore mode). */
  readonly rules: SyncRules;
  readonly unsupported: readonly Unsupported[];
}

/**
 * Opens a local file for reading and returns its descriptor; throws as open(2) does. Injected so that a test
 * can refuse a file: root, which runs the tests, reads any mode.
 */
export type OpenFile = (file: string) => number;

/** Read-only and never through a symlink. */
export const openForReading: OpenFile = (file) => openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW);

/** read(2) on a descriptor, without blocking the event loop. */
export const readAsync = promisify(read);

const WALK_CONCURRENCY = 64;
const HASH_BUFFER_BYTES = 1024 * 1024;
const HASH_CONCURRENCY = 8;

/**
 * Every synced entry below root (or below its subdirectory `from`). Reads each directory's .gitignore
 * before deciding on its children.
 */
export async function scanLocalTree(root: string, initialRules: SyncRules, from = ''): Promise<LocalScan> {
  // An empty listing of a missing root would read as "everything was deleted" and empty the container.
  const rootStats = await lstat(root).catch(() => undefined);
  if (!rootStats?.isDirectory()) {
    throw new NhError('NH_SYNC_FAILED', `the sync root ${root} is not a directory`, { hint: 'check sync.localPath in the service config (relative to the directory holding .nocalhost/)' });
  }
  const tree = new Map<string, TreeEntry>();
  const unsupported: Unsupported[] = [];
  let rules = initialRules;
  let dirs = [from];
  while (dirs.length > 0) {
    const next: string[] = [];
    // Breadth first, a level at a time: a level's .gitignore files are read before their children are judged.
    const listings = await mapLimit(dirs, WALK_CONCURRENCY, async (dir) => ({ dir, names: await readdir(join(root, dir)).catch(() => [] as string[]) }));
    if (rules.usesGitignore) {
      for (const { dir, names } of listings) {
        if (names.includes('.gitignore')) rules = rules.withGitignore(dir, await readFile(join(root, dir, '.gitignore'), 'utf8').catch(() => ''));
      }
    }
    const candidates = listings.flatMap(({ dir, names }) => names.map((name) => (dir ? `${dir}/${name}` : name)));
    const entries = await mapLimit(candidates, WALK_CONCURRENCY, (path) => statEntry(root, path));
    for (const [i, path] of candidates.entries()) {
      const entry = entries[i];
      if (!entry) continue;
      const problem = pathProblem(path);
      if (problem) {
        unsupported.push({ path, reason: `a name nh cannot sync (${problem})` });
        continue;
      }
      const isDir = entry.kind === 'dir';
      if (rules.isIgnored(path, isDir)) continue;
      if (isDir) next.push(path);
      if (entry.kind === 'other') unsupported.push({ path, reason: 'not a file, directory or symlink' });
      else if (rules.selects(path, isDir)) tree.set(path, entry);
    }
    dirs = next;
  }
  return { tree, rules, unsupported };
}

/** What is at root/path now (lstat: a symlink is the link), or undefined when nothing is. */
export async function statEntry(root: string, path: string): Promise<TreeEntry | undefined> {
  let stats: Stats;
  try {
    stats = await lstat(join(root, path));
  } catch {
    return undefined;
  }
  const kind = kindOfMode(stats.mode);
  const base = { path, kind, mode: stats.mode & 0o7777, size: kind === 'file' ? stats.size : 0, mtimeMs: stats.mtimeMs };
  if (kind !== 'link') return base;
  const target = await readlink(join(root, path)).catch(() => undefined);
  return target === undefined ? undefined : { ...base, target };
}

/** md5 of each file (hex), the hash the container computes with md5sum. Unreadable files are left out. */
export async function hashLocalFiles(root: string, paths: readonly string[], open: OpenFile = openForReading): Promise<Map<string, string>> {
  const hashes = new Map<string, string>();
  let next = 0;
  // A few workers, each reusing one read buffer: ten thousand small files must not cost ten thousand buffers.
  const worker = async () => {
    const buffer = Buffer.allocUnsafe(HASH_BUFFER_BYTES);
    while (next < paths.length) {
      const path = paths[next++]!;
      const hash = await hashFile(join(root, path), buffer, open).catch(() => undefined);
      if (hash) hashes.set(path, hash);
    }
  };
  await Promise.all(Array.from({ length: Math.min(HASH_CONCURRENCY, paths.length) }, worker));
  return hashes;
}

async function hashFile(file: string, buffer: Buffer, open: OpenFile): Promise<string> {
  const fd = open(file);
  try {
    const hash = createHash('md5');
    for (;;) {
      const { bytesRead } = await readAsync(fd, buffer, 0, buffer.length, null);
      if (bytesRead === 0) break;
      hash.update(buffer.subarray(0, bytesRead));
    }
    return hash.digest('hex');
  } finally {
    closeSync(fd);
  }
}

