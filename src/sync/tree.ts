/**
 * The model both sides of a sync are compared in, pure: one entry per synced path.
 */
export type EntryKind = 'file' | 'dir' | 'link' | 'other';

export interface TreeEntry {
  /** Relative to the sync root (local) or workDir (container), POSIX, no `./`. */
  readonly path: string;
  readonly kind: EntryKind;
  /** Permission bits (0o7777). */
  readonly mode: number;
  readonly size: number;
  readonly mtimeMs: number;
  /**
   * Container side: when the entry was last written there (its ctime, whole seconds). A local file changed in
   * that same second may differ from the copy even with the same size and mtime second (git's "racy" case).
   */
  readonly writtenMs?: number;
  /** Symlink target, as written in the link. */
  readonly target?: string;
}

export type Tree = ReadonlyMap<string, TreeEntry>;

/**
 * The permission bits compared between the two sides: the container's umask (typically 022) may clear
 * group/other write bits, so those are left out, or an unchanged tree would never compare equal.
 */
export const COMPARED_MODE_BITS = 0o755;

export function sameMode(a: number, b: number): boolean {
  return (a & COMPARED_MODE_BITS) === (b & COMPARED_MODE_BITS);
}

export function treeOf(entries: Iterable<TreeEntry>): Map<string, TreeEntry> {
  return new Map([...entries].map((e) => [e.path, e]));
}

/** `S_IFMT` bits of a raw st_mode → kind. */
export function kindOfMode(rawMode: number): EntryKind {
  switch (rawMode & 0o170000) {
    case 0o100000:
      return 'file';
    case 0o040000:
      return 'dir';
    case 0o120000:
      return 'link';
    default:
      return 'other';
  }
}
