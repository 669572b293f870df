#!/usr/bin/env node
// Runs every compiled benchmark (dist/bench/*.bench.js) in sequence; each prints its own figures.
// `npm run bench -- sync` runs only the benchmarks whose file name contains "sync".
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
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
// The cluster benchmarks run the local cluster's kubectl (bench/cluster.ts), which its first run does not build:
// on a machine with the cluster set up (its binaries linked by up.sh), it is built here on first use.
const clusterBin = '/var/lib/nh-cluster/bin';
if (existsSync(clusterBin) && !existsSync(join(clusterBin, 'kubectl'))) {
  const built = spawnSync('bash', ['scripts/cluster/build.sh', 'kubectl'], { stdio: 'inherit' });
  if (built.status !== 0) {
    console.error('scripts/cluster/build.sh kubectl failed: the cluster benchmarks need kubectl');
    process.exit(1);
  }
}
let failed = 0;
for (const file of files) {
  console.log(`\n=== ${file}`);
  const result = spawnSync(process.execPath, ['--enable-source-maps', '--expose-gc', join(dir, file)], { stdio: 'inherit' });
  if (result.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
