/**
 * The local file watcher: one fs.watch per directory, none per file (chokidar is not used here). A directory watch already reports
 * every change to the entries in it (created, deleted, renamed, written, chmod-ed), so watching each file
 * too, as chokidar 4 does, only costs: on a 100,000-file tree chokidar took 14.5 s to be ready and
 * 765 MiB of memory (BENCHMARKS.md); this takes well under a second and tens of MiB.
 *
 * Ignored directories (node_modules, .git, …) are never watched. Events carry only a name: the session
 * reads what is at the path when it sends the batch, and reads new directories in full.
 */
import { watch, type FSWatcher } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { isWithin, pathProblem } from './paths.js';

export interface TreeWatcherOptions {
  readonly root: string;
  /** Consulted for every path; directories it ignores are not watched. */
  readonly isIgnored: (path: string, isDir: boolean) => boolean;
  /** A path was added, changed (content or mode), or removed. */
  readonly onChange: (path: string) => void;
  readonly onError: (error: Error) => void;
}

export interface TreeWatcher {
  /** Watches directories the rules no longer ignore and drops those they now do (after a .gitignore edit). */
  rescan(): Promise<void>;
  close(): Promise<void>;
}

export type WatchTree = (options: TreeWatcherOptions) => Promise<TreeWatcher>;

/** Starts watching; resolves once every directory is watched, so that no later change is missed. */
export const watchTree: WatchTree = async (options) => {
  const watchers = new Map<string, FSWatcher>();
  let closed = false;

  const unwatchBelow = (dir: string) => {
    for (const [path, watcher] of watchers) {
      if (isWithin(path, dir)) {
        watcher.close();
        watchers.delete(path);
      }
    }
  };

  const onEvent = (dir: string, event: string, name: string | null) => {
    if (closed || !name) return;
    const path = dir ? `${dir}/${name}` : name;
    if (pathProblem(path) || options.isIgnored(path, false)) return;
    options.onChange(path);
    // A name appearing or vanishing may be a directory: watch it, or stop watching what was below it.
    if (event === 'rename') void followDirectory(path);
  };

  /** Watches dir; true when it was not watched before. */
  const watchDirectory = (dir: string): boolean => {
    if (watchers.has(dir) || closed) return false;
    try {
      const watcher = watch(join(options.root, dir), { persistent: true }, (event, name) => onEvent(dir, event, name));
      // A watched directory that is removed errors on some platforms; its parent reports the removal.
      watcher.on('error', () => unwatchBelow(dir));
      watchers.set(dir, watcher);
      return true;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOSPC') options.onError(new Error(`cannot watch ${dir || 'the sync root'}: the system's inotify watch limit is reached (fs.inotify.max_user_watches)`));
      else if (code !== 'ENOENT' && code !== 'ENOTDIR') options.onError(error as Error);
      return false;
    }
  };

  /**
   * Watches dir and every directory below it that is not ignored. With reportEntries, what is found in a newly
   * watched directory is reported: it was made before its watch existed, so it raised no event (a directory
   * appearing while running: its files may be written in the moment before the watch is set up).
   */
  const watchTreeFrom = async (start: string, reportEntries: boolean) => {
    let level = [start];
    while (level.length > 0 && !closed) {
      const added = new Set(level.filter((dir) => watchDirectory(dir)));
      const next: string[] = [];
      await Promise.all(
        level.map(async (dir) => {
          const entries = await readdir(join(options.root, dir), { withFileTypes: true }).catch(() => []);
          for (const entry of entries) {
            const path = dir ? `${dir}/${entry.name}` : entry.name;
            const isDir = entry.isDirectory();
            if (pathProblem(path) || options.isIgnored(path, isDir)) continue;
            if (reportEntries && added.has(dir) && !closed) options.onChange(path);
            if (isDir) next.push(path);
          }
        }),
      );
      level = next;
    }
  };

  const followDirectory = async (path: string) => {
    const stats = await lstat(join(options.root, path)).catch(() => undefined);
    // A directory removed and made again under the same name is a new one: its old watches are stale.
    unwatchBelow(path);
    if (stats?.isDirectory() && !options.isIgnored(path, true)) await watchTreeFrom(path, true);
  };

  await watchTreeFrom('', false);
  return {
    rescan: async () => {
      for (const dir of watchers.keys()) if (dir && options.isIgnored(dir, true)) unwatchBelow(dir);
      // A directory no longer ignored was read by the full sync before this; what changed since is reported.
      await watchTreeFrom('', true);
    },
    close: async () => {
      closed = true;
      for (const watcher of watchers.values()) watcher.close();
      watchers.clear();
    },
  };
};
