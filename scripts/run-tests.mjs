#!/usr/bin/env node
// Runs one suite of compiled tests with Node's test runner: `unit` (no cluster) or `e2e` (the local cluster).
// Node 20's --test takes no globs, so the files are listed here.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { availableParallelism } from 'node:os';

/**
 * e2e files that stop cluster components or restart the cluster: nothing may run beside them. The multi-node file
 * runs with the others: the node it adds is tainted, so no other file's pods land there.
 */
const EXCLUSIVE = /faults\/components\.test\.js$|zz-cluster-restart\.test\.js$/;

const suite = process.argv[2];
if (suite !== 'unit' && suite !== 'e2e') {
  console.error('usage: run-tests.mjs unit|e2e [name-filter]');
  process.exit(2);
}
const filter = process.argv[3];
const sources = join('test', suite);
const fileTimes = pathToFileURL(join(dirname(fileURLToPath(import.meta.url)), 'test-file-times.mjs')).href;

/**
 * The compiled files of the suite's test sources. Listed from the sources, not from dist/: tsc leaves the output
 * of a removed or renamed test behind, and an old fault test must not run beside the others.
 */
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
    const compiled = join('dist', path.replace(/\.ts$/, '.js'));
    return name.endsWith('.test.ts') && (!filter || compiled.includes(filter)) ? [compiled] : [];
  });
}

// Node's runner starts the files in name order whatever order they are given in.
const files = listTests(sources).sort();
const missing = files.filter((f) => !existsSync(f));
if (files.length === 0) {
  console.error(`no test files under ${sources}${filter ? ` whose path contains "${filter}"` : ''}`);
  process.exit(1);
}
if (missing.length > 0) {
  console.error(`not compiled: ${missing.join(', ')}; run \`npm run build\` first`);
  process.exit(1);
}

function run(group, concurrency) {
  if (group.length === 0) return 0;
  const reporters = ['--test-reporter=tap', '--test-reporter-destination=stdout', `--test-reporter=${fileTimes}`, '--test-reporter-destination=stdout'];
  const result = spawnSync(process.execPath, ['--enable-source-maps', '--test', `--test-concurrency=${concurrency}`, ...reporters, ...group], { stdio: 'inherit' });
  return result.status ?? 1;
}

// Unit files as many at once as there are cores: the longest (35 s of the suite's 51 s at 2, 78 s at 1) mostly
// waits on the processes it supervises.
if (suite === 'unit') process.exit(run(files, availableParallelism()));
// e2e files share one cluster. Those that stop its components or restart it run alone, after the others; the
// others run NH_E2E_CONCURRENCY at a time (default 2). Three at a time is ≈ 7 % faster on 2 cores (620 s against
// 667 s on 2026-12-03), but at a load of 12-13 the kubelet answered a forward's new streams later than the 2 s
// after which nh takes a port-forward session as stuck (forward/spdy's one-session test failed in CI).
const alone = files.filter((f) => EXCLUSIVE.test(f));
const together = files.filter((f) => !EXCLUSIVE.test(f));
const concurrency = Math.max(1, Number(process.env.NH_E2E_CONCURRENCY ?? 2));
const failedTogether = run(together, concurrency);
const failedAlone = run(alone, 1);
process.exit(failedTogether || failedAlone);
