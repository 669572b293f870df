// File sync (issue 5) on the real cluster: a busybox-only dev container (sh + tar), synced through the
// agent; after each step the container's tree must equal the expected local tree by hash.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SyncSession, type SyncEvent } from '../../../src/sync/session.js';
import type { RuleSettings } from '../../../src/sync/rules.js';
import { useNamespace, waitFor } from '../support/cluster.js';
import { tarOf } from '../../support/tar.js';
import { connectTo, containerFingerprint, createDevDeployment, deletePod, readyPod, waitForSameTree, WORKDIR } from './support.js';

const ns = useNamespace('sync');
const APP = 'sync-min';
const everything: RuleSettings = { mode: 'pattern', filePatterns: ['.'], ignorePatterns: [] };
const roots: string[] = [];

let deployed: Promise<void> | undefined;
/** The dev Deployment, created by the first test that needs it (the namespace exists only inside tests). */
function deployment(): Promise<void> {
  deployed ??= createDevDeployment(ns(), APP);
  return deployed;
}

after(() => {
  for (const root of roots) rmSync(root, { recursive: true, force: true });
});

function localRoot(): string {
  const root = mkdtempSync(join(tmpdir(), 'nh-sync-e2e-'));
  roots.push(root);
  return root;
}

/** A session into its own workDir below the pod's emptyDir, so tests do not see each other's files. */
function sessionFor(root: string, workDir: string, settings: RuleSettings = everything, events: SyncEvent[] = []) {
  const connect = connectTo(ns(), APP, `${WORKDIR}/${workDir}`);
  const session = new SyncSession({ service: workDir, localRoot: root, settings, connect, onEvent: (e) => events.push(e), maxFileBytes: 200 * 1024 ** 2 });
  return { session, connect, events };
}

/** Runs the live session until the returned stop() is called. */
async function live(session: SyncSession, events: SyncEvent[]) {
  const abort = new AbortController();
  const running = session.run(abort.signal);
  await waitFor('the watcher and the initial sync', () => events.some((e) => e.type === 'batch' && e.initial), 60_000, 50);
  return async () => {
    abort.abort();
    await running;
  };
}

test('edits, deletes, renames, chmod +x, empty files, unicode and spaces, a symlink out of the root', async () => {
  await deployment();
  const root = localRoot();
  mkdirSync(join(root, 'src/deep'), { recursive: true });
  writeFileSync(join(root, 'src/app.js'), 'console.log(1)\n');
  writeFileSync(join(root, 'src/deep/data.json'), '{}');
  writeFileSync(join(root, 'empty'), '');
  writeFileSync(join(root, 'run.sh'), '#!/bin/sh\necho hi\n');
  const { session, connect, events } = sessionFor(root, 'live');
  const stop = await live(session, events);
  try {
    await waitForSameTree(root, connect);

    writeFileSync(join(root, 'src/app.js'), 'console.log(2)\n');
    await waitForSameTree(root, connect);

    chmodSync(join(root, 'run.sh'), 0o755);
    await waitForSameTree(root, connect);

    renameSync(join(root, 'src/deep'), join(root, 'src/moved'));
    renameSync(join(root, 'empty'), join(root, 'still empty'));
    await waitForSameTree(root, connect);

    writeFileSync(join(root, 'ünïcødé ñame – 名前.txt'), 'ü');
    mkdirSync(join(root, 'dir with spaces/and more'), { recursive: true });
    writeFileSync(join(root, 'dir with spaces/and more/x y.txt'), 'x');
    await waitForSameTree(root, connect);

    // Copied as a link, never followed: the container gets the link, not /etc/passwd's content.
    symlinkSync('/etc/passwd', join(root, 'outside'));
    symlinkSync('../../../../etc', join(root, 'src/up'));
    symlinkSync('app.js', join(root, 'src/alias.js'));
    await waitForSameTree(root, connect);

    rmSync(join(root, 'src/moved'), { recursive: true });
    rmSync(join(root, 'run.sh'));
    await waitForSameTree(root, connect);

    // A file replaced by a directory of the same name, and back.
    rmSync(join(root, 'still empty'));
    mkdirSync(join(root, 'still empty'));
    writeFileSync(join(root, 'still empty/inside'), 'i');
    await waitForSameTree(root, connect);
  } finally {
    await stop();
  }
  const batches = events.filter((e) => e.type === 'batch' && !e.initial);
  assert.ok(batches.length >= 7, `one or more live batches per step, got ${batches.length}`);
  assert.ok(!events.some((e) => e.type === 'error'), JSON.stringify(events.filter((e) => e.type === 'error')));
});

test('nested ignores in pattern and gitIgnore mode; what the container made itself stays', async () => {
  await deployment();
  const root = localRoot();
  const files: Record<string, string> = {
    '.gitignore': 'dist/\n*.log\n!keep.log\n',
    'web/.gitignore': 'cache\n',
    'web/cache': 'c',
    'web/index.html': 'h',
    'dist/bundle.js': 'b',
    'a.log': 'l',
    'keep.log': 'k',
    'node_modules/m/index.js': 'm',
    'src/main.go': 'g',
    'src/main.go.swp': 'swap',
    'src/notes~': 'backup',
    '.git/HEAD': 'ref',
    'tmp/scratch': 's',
  };
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  const settings: RuleSettings = { mode: 'gitIgnore', filePatterns: ['.'], ignorePatterns: ['node_modules', './tmp'] };
  const { session, connect } = sessionFor(root, 'ignores', settings);
  // The container's own node_modules is not ours: a sync must leave it.
  const prepare = await connect();
  await prepare.put(...tarOf({ 'node_modules/own/pkg.js': 'container-made' }));
  await prepare.close();

  await session.syncOnce(AbortSignal.timeout(60_000));
  const agent = await connect();
  try {
    const got = new Set((await containerFingerprint(agent)).keys());
    for (const present of ['.gitignore', 'web/.gitignore', 'web/index.html', 'keep.log', 'src/main.go', 'node_modules/own/pkg.js']) assert.ok(got.has(present), `${present} synced/kept`);
    for (const absent of ['web/cache', 'dist', 'dist/bundle.js', 'a.log', 'node_modules/m', 'src/main.go.swp', 'src/notes~', '.git', 'tmp']) assert.ok(!got.has(absent), `${absent} not synced`);
  } finally {
    await agent.close();
  }

  // Pattern mode with the same tree: .gitignore files no longer apply, the ignore patterns still do.
  const pattern = sessionFor(root, 'ignores', { ...settings, mode: 'pattern' });
  await pattern.session.syncOnce(AbortSignal.timeout(60_000));
  const after = await connect();
  try {
    const got = new Set((await containerFingerprint(after)).keys());
    for (const present of ['web/cache', 'dist/bundle.js', 'a.log', 'node_modules/own/pkg.js']) assert.ok(got.has(present), `${present} synced/kept`);
    for (const absent of ['node_modules/m', '.git', 'tmp', 'src/main.go.swp']) assert.ok(!got.has(absent), `${absent} not synced`);
  } finally {
    await after.close();
  }
});

test('an unchanged tree sends nothing; a replaced pod (empty workDir) is filled again', async () => {
  await deployment();
  const root = localRoot();
  for (let i = 0; i < 50; i++) {
    mkdirSync(join(root, `d${i % 5}`), { recursive: true });
    writeFileSync(join(root, `d${i % 5}/f${i}.txt`), randomBytes(100 + i));
  }
  const { session, connect } = sessionFor(root, 'resync');
  const first = await session.syncOnce(AbortSignal.timeout(60_000));
  assert.equal(first.puts.length, 55);
  const again = await session.syncOnce(AbortSignal.timeout(60_000));
  assert.equal(again.bytes, 0);
  assert.deepEqual([again.puts.length, again.deletes.length], [0, 0]);

  // Drift check: a file changed in the container, one deleted locally.
  const agent = await connect();
  await agent.put(...tarOf({ 'd0/f0.txt': 'changed in the container' }));
  await agent.close();
  rmSync(join(root, 'd1/f1.txt'));
  const check = await session.check(AbortSignal.timeout(60_000));
  assert.deepEqual(check.differences, [
    { path: 'd0/f0.txt', reason: 'content' },
    { path: 'd1/f1.txt', reason: 'extra' },
  ]);

  const old = (await readyPod(ns(), APP))!;
  await deletePod(ns(), old);
  await waitFor('a new pod', async () => {
  await deployment();
    const pod = await readyPod(ns(), APP);
    return pod !== undefined && pod !== old;
  }, 120_000);
  const refill = await session.syncOnce(AbortSignal.timeout(60_000));
  assert.equal(refill.puts.length, 54);
  await waitForSameTree(root, connect);
});

test('a 100 MB file and a 1,000-file burst', async () => {
  await deployment();
  const root = localRoot();
  const chunk = randomBytes(1024 * 1024);
  const big = Buffer.alloc(100 * 1024 * 1024);
  for (let i = 0; i < 100; i++) {
    chunk[0] = i; // no two MiB alike
    chunk.copy(big, i * chunk.length);
  }
  writeFileSync(join(root, 'big.bin'), big);
  const { session, connect, events } = sessionFor(root, 'bulk');
  const stop = await live(session, events);
  try {
    await waitForSameTree(root, connect);
    const before = events.filter((e) => e.type === 'batch').length;
    mkdirSync(join(root, 'burst'));
    for (let i = 0; i < 1000; i++) writeFileSync(join(root, `burst/file-${i}.txt`), `content ${i}\n`);
    await waitForSameTree(root, connect);
    const burst = events.filter((e) => e.type === 'batch').length - before;
    assert.ok(burst >= 1 && burst <= 30, `1,000 files in a few batches, not one per file: ${burst}`);
  } finally {
    await stop();
  }
});

test('the pod killed mid-sync: the next pod gets everything, edits made meanwhile included', async () => {
  await deployment();
  const root = localRoot();
  for (let i = 0; i < 40; i++) writeFileSync(join(root, `part-${i}.bin`), randomBytes(1024 * 1024));
  const events: SyncEvent[] = [];
  const connect = connectTo(ns(), APP, `${WORKDIR}/killed`);
  let connections = 0;
  const session = new SyncSession({
    service: 'killed',
    localRoot: root,
    settings: everything,
    onEvent: (e) => events.push(e),
    connect: async (signal) => {
      const agent = await connect(signal);
      connections++;
      return agent;
    },
  });
  const abort = new AbortController();
  const running = session.run(abort.signal);
  try {
    // Kill the pod as soon as the initial 40 MB start on their way.
    await waitFor('the first connection', () => connections > 0, 60_000, 5);
    await deletePod(ns(), (await readyPod(ns(), APP))!);
    writeFileSync(join(root, 'edited-while-gone.txt'), 'not lost');
    await waitFor('the session to notice', () => events.some((e) => e.type === 'pod-lost'), 60_000, 50);
    await waitForSameTree(root, connect, undefined, 120_000);
  } finally {
    abort.abort();
    await running;
  }
  assert.ok(connections >= 2, 'reconnected to the new pod');
});
