/**
 * The local file watcher: chokidar 4 (loaded lazily), reporting paths relative to the sync root.
 * Ignored directories are not descended into, so node_modules costs no watches and no memory.
 */
import type { Stats } from 'node:fs';
import { basename, join, sep } from 'node:path';
import { relativeToRoot } from './paths.js';

export interface TreeWatcherOptions {
  readonly root: string;
  /** Consulted for every path; directories it ignores are not watched. */
  readonly isIgnored: (path: string, isDir: boolean) => boolean;
  /** A path was added, changed (content or mode), or removed. */
  readonly onChange: (path: string) => void;
  readonly onError: (error: Error) => void;
}

export interface TreeWatcher {
  close(): Promise<void>;
}

export type WatchTree = (options: TreeWatcherOptions) => Promise<TreeWatcher>;

/** Starts watching; resolves once the initial scan is done and every later change is reported. */
export const watchTree: WatchTree = async (options) => {
  const { watch } = await import('chokidar');
  const watcher = watch(options.root, {
    ignoreInitial: true,
    followSymlinks: false,
    // Atomic-save detection delays deletes by 100 ms; reading the path when the batch is sent covers it.
    atomic: false,
    ignored: (absolute: string, stats?: Stats) => {
      const path = relativeToRoot(options.root, absolute, sep);
      if (path === undefined) return false;
      return options.isIgnored(path, stats?.isDirectory() ?? false);
    },
  });
  watcher.on('all', (_event, absolute) => {
    const path = relativeToRoot(options.root, absolute, sep);
    if (path !== undefined) options.onChange(path);
  });
  // chokidar reports a change only when the mtime moved; a chmod moves only the ctime. fs.watch's raw
  // 'change' covers it (a file's own watch reports its name; a directory's, the entry's).
  watcher.on('raw', (event, name, details) => {
    const watched = (details as { watchedPath?: string } | undefined)?.watchedPath;
    if (event !== 'change' || !watched) return;
    const absolute = basename(watched) === name ? watched : join(watched, name);
    const path = relativeToRoot(options.root, absolute, sep);
    if (path !== undefined && !options.isIgnored(path, false)) options.onChange(path);
  });
  watcher.on('error', (error) => options.onError(error instanceof Error ? error : new Error(String(error))));
  await new Promise<void>((resolve) => watcher.once('ready', () => resolve()));
  return { close: () => watcher.close() };
};
