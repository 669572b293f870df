/**
 * What to send and delete, pure: from the local tree, what the container holds, and hashes of the files
 * whose sizes agree. Deletes run before puts; a delete of a directory covers everything below it.
 */
import { ancestorsOf } from './paths.js';
import { sameMode, type EntryKind, type Tree, type TreeEntry } from './tree.js';

export interface PathSelector {
  selects(path: string, isDir: boolean): boolean;
}

export type DifferenceReason =
  /** Only local: the container lacks it. */
  | 'missing'
  /** Only in the container (and synced by the rules): deleted there. */
  | 'extra'
  | 'content'
  | 'mode'
  /** A file on one side, a directory or link on the other. */
  | 'kind'
  | 'target';

export interface Difference {
  readonly path: string;
  readonly reason: DifferenceReason;
}

export interface SyncPlan {
  /** Topmost paths to remove, sorted. */
  readonly deletes: readonly string[];
  /** Local entries to write, sorted so that a directory comes before what is in it. */
  readonly puts: readonly TreeEntry[];
  /** Files above the size limit: reported, neither sent nor deleted in the container. */
  readonly tooLarge: readonly TreeEntry[];
  readonly differences: readonly Difference[];
  /** File bytes the puts send. */
  readonly bytes: number;
}

export interface Hashes {
  readonly local: ReadonlyMap<string, string>;
  readonly remote: ReadonlyMap<string, string>;
  /** Files taken as equal without hashing: same size and same mtime second on both sides. */
  readonly sameByStat?: ReadonlySet<string>;
}

export interface ContentChecks {
  /** Files whose hashes must be compared. */
  readonly hash: readonly string[];
  readonly sameByStat: ReadonlySet<string>;
}

/**
 * Which files need their hashes compared: those with the same size on both sides (a different size is a
 * difference already). With `trustMtime`, a file whose container copy also has its local mtime second
 * (nh's tar sets it) is taken as equal, as rsync's quick check does: a re-sync of an unchanged tree then
 * hashes nothing. Not when the local mtime second is not older than the second the copy was written: an
 * edit right after a sync, in the same second, keeps size and mtime second (git's "racy clean" case).
 * Anything writing in the container moves the mtime; `nh sync --check` always hashes. Nor for the `distrusted`
 * paths: files nh failed to read when it last sent them, whose copy may be damaged with the right size and mtime.
 */
export function contentChecks(local: Tree, remote: Tree, trustMtime: boolean, distrusted: ReadonlySet<string> = new Set()): ContentChecks {
  const hash: string[] = [];
  const sameByStat = new Set<string>();
  for (const entry of local.values()) {
    const other = remote.get(entry.path);
    if (entry.kind !== 'file' || other?.kind !== 'file' || other.size !== entry.size) continue;
    const second = Math.floor(entry.mtimeMs / 1000);
    const racy = other.writtenMs !== undefined && second >= Math.floor(other.writtenMs / 1000);
    if (trustMtime && !racy && !distrusted.has(entry.path) && second === Math.floor(other.mtimeMs / 1000)) sameByStat.add(entry.path);
    else hash.push(entry.path);
  }
  return { hash: hash.sort(), sameByStat };
}

export function planSync(local: Tree, remote: Tree, hashes: Hashes, rules: PathSelector, maxFileBytes: number): SyncPlan {
  const differences: Difference[] = [];
  const puts: TreeEntry[] = [];
  const tooLarge: TreeEntry[] = [];
  const replaced = new Set<string>();
  for (const entry of [...local.values()].sort(byPath)) {
    if (entry.kind === 'file' && entry.size > maxFileBytes) {
      tooLarge.push(entry);
      continue;
    }
    const reason = differenceOf(entry, remote.get(entry.path), hashes);
    if (!reason) continue;
    differences.push({ path: entry.path, reason });
    puts.push(entry);
    if (reason === 'kind') replaced.add(entry.path);
  }
  const tooLargePaths = new Set(tooLarge.map((e) => e.path));
  const extra = new Set<string>();
  for (const entry of remote.values()) {
    if (!local.has(entry.path) && !tooLargePaths.has(entry.path) && rules.selects(entry.path, entry.kind === 'dir')) extra.add(entry.path);
  }
  // A directory the container must keep (it holds something nh does not sync) is emptied, not removed.
  for (const entry of remote.values()) {
    if (extra.has(entry.path) || replaced.has(entry.path)) continue;
    for (const dir of ancestorsOf(entry.path)) extra.delete(dir);
  }
  for (const path of extra) {
    // What lies below a path replaced by another kind goes with it.
    if (!ancestorsOf(path).some((dir) => replaced.has(dir))) differences.push({ path, reason: 'extra' });
  }
  const deletes = topmost([...extra, ...replaced]);
  return {
    deletes,
    puts,
    tooLarge,
    differences: differences.sort(byPath),
    bytes: puts.reduce((sum, e) => sum + (e.kind === 'file' ? e.size : 0), 0),
  };
}

function differenceOf(local: TreeEntry, remote: TreeEntry | undefined, hashes: Hashes): DifferenceReason | undefined {
  if (!remote) return 'missing';
  if (remote.kind !== local.kind) return 'kind';
  switch (local.kind) {
    case 'link':
      return remote.target === local.target ? undefined : 'target';
    case 'dir':
      return sameMode(local.mode, remote.mode) ? undefined : 'mode';
    case 'file': {
      if (remote.size !== local.size) return 'content';
      if (hashes.sameByStat?.has(local.path)) return sameMode(local.mode, remote.mode) ? undefined : 'mode';
      const localHash = hashes.local.get(local.path);
      if (localHash === undefined || localHash !== hashes.remote.get(local.path)) return 'content';
      return sameMode(local.mode, remote.mode) ? undefined : 'mode';
    }
    case 'other':
      return undefined;
  }
}

export interface LiveBatchPlan {
  readonly deletes: readonly string[];
  readonly puts: readonly TreeEntry[];
  readonly tooLarge: readonly TreeEntry[];
}

/**
 * One live batch: each changed path with what is there now (undefined: gone). `known` is what nh wrote
 * or saw in the container; a path never there is not deleted, and a changed kind is deleted first.
 */
export function planLiveBatch(
  changes: ReadonlyMap<string, TreeEntry | undefined>,
  known: ReadonlyMap<string, EntryKind>,
  rules: PathSelector,
  maxFileBytes: number,
): LiveBatchPlan {
  const deletes: string[] = [];
  const puts: TreeEntry[] = [];
  const tooLarge: TreeEntry[] = [];
  for (const path of [...changes.keys()].sort()) {
    const entry = changes.get(path);
    const knownKind = known.get(path);
    if (!entry) {
      if (knownKind) deletes.push(path);
      continue;
    }
    if (entry.kind === 'other' || !rules.selects(path, entry.kind === 'dir')) continue;
    if (entry.kind === 'file' && entry.size > maxFileBytes) {
      tooLarge.push(entry);
      continue;
    }
    if (knownKind && knownKind !== entry.kind) deletes.push(path);
    puts.push(entry);
  }
  return { deletes: topmost(deletes), puts, tooLarge };
}

/** Drops every path that lies below another one in the list; sorts. */
export function topmost(paths: Iterable<string>): string[] {
  const all = new Set(paths);
  return [...all].filter((path) => !ancestorsOf(path).some((dir) => all.has(dir))).sort();
}

function byPath(a: { path: string }, b: { path: string }): number {
  return a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
}
