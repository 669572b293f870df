/**
 * Worker of sync.bench.ts, in its own process so its peak RSS is nh's alone: watches a tree as a sync
 * session does (the service's rules, fs.watch per directory), then walks it as the initial delta does, and prints
 * {readyMs, scanMs, entries, peakRssMiB} as JSON. Usage: node sync-watch.worker.js ROOT
 */
import { readFileSync } from 'node:fs';
import { scanLocalTree } from '../src/sync/local-tree.js';
import { SyncRules } from '../src/sync/rules.js';
import { watchTree } from '../src/sync/watcher.js';

const root = process.argv[2];
if (!root) throw new Error('usage: sync-watch.worker.js ROOT');
const rules = SyncRules.compile({ mode: 'pattern', filePatterns: ['.'], ignorePatterns: [] });
const started = performance.now();
let changes = 0;
const watcher = await watchTree({ root, isIgnored: (path, isDir) => rules.isIgnored(path, isDir), onChange: () => changes++, onError: () => undefined });
const readyMs = performance.now() - started;
const scanStarted = performance.now();
const scan = await scanLocalTree(root, rules);
const scanMs = performance.now() - scanStarted;
const peak = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
await watcher.close();
console.log(JSON.stringify({ readyMs, scanMs, entries: scan.tree.size, changes, peakRssMiB: Number(peak) / 1024 }));
