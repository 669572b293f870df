#!/usr/bin/env node
// Runs one suite of compiled tests with Node's test runner: `unit` (no cluster) or `e2e` (the local cluster).
// Node 20's --test takes no globs, so the files are listed here.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const suite = process.argv[2];
if (suite !== 'unit' && suite !== 'e2e') {
  console.error('usage: run-tests.mjs unit|e2e [name-filter]');
  process.exit(2);
}
const filter = process.argv[3];
const root = join('dist', 'test', suite);

function listTests(dir) {
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  return entries.flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return listTests(path);
    return name.endsWith('.test.js') && (!filter || path.includes(filter)) ? [path] : [];
  });
}

const files = listTests(root).sort();
if (files.length === 0) {
  console.error(`no test files under ${root}; run \`npm run build\` first`);
  process.exit(1);
}
// e2e files share one cluster: run them one at a time so their timing stays readable.
const concurrency = suite === 'e2e' ? ['--test-concurrency=1'] : [];
const result = spawnSync(process.execPath, ['--enable-source-maps', '--test', ...concurrency, ...files], { stdio: 'inherit' });
process.exit(result.status ?? 1);
