#!/usr/bin/env node
// Runs `npm ci` when node_modules is missing or older than package-lock.json, so that `npm test` and
// `npm run demo` work on a fresh clone (and after a pull that changed the lockfile) with nothing run before.
// Node built-ins only: nothing else is installed yet. npm's output goes to stderr, the demo's stdout stays clean.
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
if (installedMs !== undefined && lockMs !== undefined && installedMs >= lockMs) process.exit(0);

console.error(installedMs === undefined ? 'ensure-deps: node_modules is missing: npm ci' : 'ensure-deps: package-lock.json is newer than node_modules: npm ci');
const npm = process.env.npm_execpath ? [process.execPath, [process.env.npm_execpath]] : ['npm', []];
const result = spawnSync(npm[0], [...npm[1], 'ci', '--no-audit', '--no-fund'], { cwd: root, stdio: ['inherit', 2, 2] });
process.exit(result.status ?? 1);
