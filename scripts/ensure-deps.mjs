#!/usr/bin/env node
// Runs `npm ci` when node_modules is missing or older than package-lock.json, so that `npm test` and
// `npm run demo` work on a fresh clone (and after a pull that changed the lockfile) with nothing run before.
// Node built-ins only: nothing else is installed yet. npm's output goes to stderr, the demo's stdout stays clean.
// With --build it also builds nh (`npm run build`), unless it ran `npm ci`: npm ci runs the `prepare` script,
// which is the same build, and a fresh clone's first `npm run demo` would otherwise build twice.
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const modifiedMs = (path) => {
  try {
    return statSync(join(root, path)).mtimeMs;
  } catch {
    return undefined;
  }
};

// npm ci writes node_modules/.package-lock.json last: its age is the age of the install.
const installedMs = modifiedMs('node_modules/.package-lock.json');
const lockMs = modifiedMs('package-lock.json');
const npm = process.env.npm_execpath ? [process.execPath, [process.env.npm_execpath]] : ['npm', []];
const runNpm = (args) => spawnSync(npm[0], [...npm[1], ...args], { cwd: root, stdio: ['inherit', 2, 2] }).status ?? 1;

if (installedMs !== undefined && lockMs !== undefined && installedMs >= lockMs) {
  process.exit(process.argv.includes('--build') ? runNpm(['run', '--silent', 'build']) : 0);
}
console.error(installedMs === undefined ? 'ensure-deps: node_modules is missing: npm ci' : 'ensure-deps: package-lock.json is newer than node_modules: npm ci');
process.exit(runNpm(['ci', '--no-audit', '--no-fund']));
