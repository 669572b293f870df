#!/usr/bin/env node
// Runs compiled tests with Node's test runner: `unit` (no cluster), `e2e` (the local cluster), or `all`: both, and
// lint, as `npm test` runs them (see the end of this file). Node 20's --test takes no globs, so the files are
// listed here.
import { Buffer } from 'node:buffer';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { availableParallelism } from 'node:os';
import { createRequire } from 'node:module';

/**
 * e2e files that stop cluster components or restart the cluster: nothing may run beside them. The multi-node file
 * runs with the others: the node it adds is tainted, so no other file's pods land there.
 */
const EXCLUSIVE = /faults\/components\.test\.js$|zz-cluster-restart\.test\.js$/;
/**
 * e2e files that mostly wait, in a lane of their own beside the others instead of one of their NH_E2E_CONCURRENCY:
 * faults/session freezes nh for 60 s (SIGSTOP: a sleeping laptop), half of its ≈ 125 s, with nothing running.
 */
const WAITING = /faults\/session\.test\.js$/;

const suite = process.argv[2];
const filter = process.argv[3];
if (!['unit', 'e2e', 'all'].includes(suite) || (suite === 'all' && filter)) {
  console.error('usage: run-tests.mjs unit|e2e [name-filter], or run-tests.mjs all');
  process.exit(2);
}
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

/** The suite's compiled test files, in name order (Node's runner starts them in that order whatever it is given). */
function suiteFiles(name) {
  const sources = join('test', name);
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
  return files;
}

/**
 * Runs `args` with this Node; resolves with its exit status. Its output goes to ours, or with `buffered` is kept
 * and returned, for a run beside another whose output must not be interleaved with it.
 */
function node(args, buffered = false) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { stdio: buffered ? ['ignore', 'pipe', 'pipe'] : 'inherit' });
    const chunks = [];
    child.stdout?.on('data', (chunk) => chunks.push(chunk));
    child.stderr?.on('data', (chunk) => chunks.push(chunk));
    child.on('error', (error) => chunks.push(Buffer.from(`${error.message}\n`)));
    child.on('close', (code) => resolve({ status: code ?? 1, output: Buffer.concat(chunks).toString('utf8') }));
  });
}

/**
 * A test file that runs longer than this is taken as hung and fails (Node applies --test-timeout to each file's
 * process), so that a promise that never settles, or a server a failed test left open, which keeps its file's
 * process alive, cannot hold the run until CI's limit. The longest files take ≈ 35 s (unit) and ≈ 5 min (e2e).
 */
const TEST_TIMEOUT_MS = { unit: 3 * 60_000, e2e: 20 * 60_000 };

async function run(group, concurrency, timeoutMs, buffered = false) {
  if (group.length === 0) return { status: 0, output: '' };
  const reporters = ['--test-reporter=tap', '--test-reporter-destination=stdout', `--test-reporter=${fileTimes}`, '--test-reporter-destination=stdout'];
  return node(['--enable-source-maps', '--test', `--test-concurrency=${concurrency}`, `--test-timeout=${timeoutMs}`, ...reporters, ...group], buffered);
}

/** Unit files as many at once as there are cores: the longest (35 s of the suite's 51 s at 2, 78 s at 1) mostly waits on the processes it supervises. */
const runUnit = (files, buffered) => run(files, availableParallelism(), TEST_TIMEOUT_MS.unit, buffered);

/** eslint, as `npm run lint` runs it. */
const runLint = () => node([join(dirname(createRequire(import.meta.url).resolve('eslint/package.json')), 'bin', 'eslint.js'), '.'], true);

/**
 * e2e files share one cluster. Those that stop its components or restart it run alone, after the others; the others
 * run NH_E2E_CONCURRENCY at a time (default 2), with the WAITING ones in a lane beside them. Three at a time gains
 * nothing on 2 cores once they are saturated: 620 s against 667 s on 2026-12-02, 791 s against 750 s the day after.
 * `beside` runs beside the alone group, which mostly waits for components to come back (the machine ≈ 64 % idle
 * through it).
 */
async function runE2e(beside = async () => 0) {
  const files = suiteFiles('e2e');
  const concurrency = Math.max(1, Number(process.env.NH_E2E_CONCURRENCY ?? 2));
  const shared = files.filter((f) => !EXCLUSIVE.test(f));
  const others = shared.filter((f) => !WAITING.test(f));
  // Buffered only beside other files: their TAP output must not interleave; alone (a filtered run) it streams.
  const besideOthers = others.length > 0;
  const [together, waiting] = await Promise.all([run(others, concurrency, TEST_TIMEOUT_MS.e2e), run(shared.filter((f) => WAITING.test(f)), 1, TEST_TIMEOUT_MS.e2e, besideOthers)]);
  if (besideOthers && waiting.output) process.stdout.write(`# e2e files that mostly wait (run beside the others)\n${waiting.output}`);
  const [alone, besideStatus] = await Promise.all([run(files.filter((f) => EXCLUSIVE.test(f)), 1, TEST_TIMEOUT_MS.e2e), beside()]);
  return together.status || waiting.status || alone.status || besideStatus;
}

/**
 * `npm test`: the e2e files, then lint and the unit tests beside the e2e files that run alone. Those spend most of
 * their time waiting for a stopped component or the restarted cluster, and lint and the unit tests need no cluster:
 * ≈ 75 s of the run's wall time on 2 cores. Their output is printed after the e2e files', each under its name.
 */
async function runAll() {
  // Listed first: a unit file left uncompiled stops the run now, not after the e2e files.
  const unitFiles = suiteFiles('unit');
  const besideAlone = async () => {
    const lint = await runLint();
    const unit = await runUnit(unitFiles, true);
    process.stdout.write(`# lint (eslint .)${lint.status ? ': failed' : ': clean'}\n${lint.output}`);
    process.stdout.write(`# unit tests (run beside the e2e files that run alone)\n${unit.output}`);
    return lint.status || unit.status;
  };
  return runE2e(besideAlone);
}

if (suite === 'unit') process.exit((await runUnit(suiteFiles('unit'), false)).status);
if (suite === 'e2e') process.exit(await runE2e());
process.exit(await runAll());
