#!/usr/bin/env node
// Runs every compiled benchmark (dist/bench/*.bench.js) in sequence; each prints its own figures.
// `npm run bench -- sync` runs only the benchmarks whose file name contains "sync".
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const dir = join('dist', 'bench');
const filter = process.argv[2];
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.js') && (!filter || f.includes(filter)))
  .sort();
if (files.length === 0) {
  console.error(`no benchmarks in ${dir}${filter ? ` matching "${filter}"` : ''}`);
  process.exit(1);
}
let failed = 0;
for (const file of files) {
  console.log(`\n=== ${file}`);
  const result = spawnSync(process.execPath, ['--enable-source-maps', '--expose-gc', join(dir, file)], { stdio: 'inherit' });
  if (result.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
