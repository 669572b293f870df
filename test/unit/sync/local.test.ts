// The local side on a real temp directory: the walk (rules, .gitignore files, symlinks never followed,
// special files reported), the archive stream, and the directory-level watcher.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { archiveChunks, scanLocalTree } from '../../../src/sync/local-tree.js';
import { SyncRules } from '../../../src/sync/rules.js';
import { archiveSize } from '../../../src/sync/tar.js';
import { watchTree } from '../../../src/sync/watcher.js';

function tempTree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'nh-local-'));
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  return root;
}

test('the walk: rules and nested .gitignore files, symlinks as links, special files reported', async () => {
  const outside = tempTree({ 'secret.txt': 'never read' });
  const root = tempTree({ '.gitignore': 'build/\n', 'src/a.js': 'a', 'src/.gitignore': '*.gen.js\n', 'src/x.gen.js': 'g', 'build/out.js': 'o', 'node_modules/m.js': 'm' });
  try {
    symlinkSync(outside, join(root, 'escape'));
    symlinkSync('../src', join(root, 'src/self'));
    execFileSync('mkfifo', [join(root, 'pipe')]);
    const rules = SyncRules.compile({ mode: 'gitIgnore', filePatterns: ['.'], ignorePatterns: ['node_modules'] });
    const scan = await scanLocalTree(root, rules);
    assert.deepEqual([...scan.tree.keys()].sort(), ['.gitignore', 'escape', 'src', 'src/.gitignore', 'src/a.js', 'src/self']);
    assert.equal(scan.tree.get('escape')?.kind, 'link');
    assert.equal(scan.tree.get('escape')?.target, outside);
    assert.deepEqual(scan.unsupported, [{ path: 'pipe', reason: 'not a file, directory or symlink' }]);
    await assert.rejects(scanLocalTree(join(root, 'missing'), rules), /not a directory/);
  } finally {
    rmSync(root, { recursive: true, force: true });
    rmSync(outside, { recursive: true, force: true });
  }
});

test('the archive has exactly the announced size, even when a file shrank or vanished meanwhile', async () => {
  const big = 'b'.repeat(300 * 1024); // streamed, not read at once
  const root = tempTree({ 'small.txt': 'hello', 'big.bin': big, 'gone.txt': 'soon gone' });
  try {
    const scan = await scanLocalTree(root, SyncRules.compile({ mode: 'pattern', filePatterns: ['.'], ignorePatterns: [] }));
    const entries = [...scan.tree.values()].sort((a, b) => (a.path < b.path ? -1 : 1));
    rmSync(join(root, 'gone.txt'));
    writeFileSync(join(root, 'small.txt'), 'hi');
    const chunks: Uint8Array[] = [];
    for await (const chunk of archiveChunks(root, entries)) chunks.push(Buffer.from(chunk));
    const archive = Buffer.concat(chunks);
    assert.equal(archive.length, archiveSize(entries));
    assert.ok(chunks.every((c) => c.length <= 1024 * 1024));
    assert.ok(archive.includes(Buffer.from(big)));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

async function until(what: string, condition: () => boolean): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`never saw ${what}`);
}

test('the watcher: writes, chmod, renames, deletes, new directories; ignored directories stay unwatched', async () => {
  const root = tempTree({ 'a.txt': 'a', 'node_modules/m.js': 'm', 'src/b.txt': 'b' });
  const seen = new Set<string>();
  const watcher = await watchTree({
    root,
    isIgnored: (path) => path === 'node_modules' || path.startsWith('node_modules/'),
    onChange: (path) => seen.add(path),
    onError: (error) => assert.fail(error),
  });
  try {
    writeFileSync(join(root, 'a.txt'), 'changed');
    await until('a write', () => seen.has('a.txt'));
    seen.clear();
    chmodSync(join(root, 'src/b.txt'), 0o755);
    await until('a chmod', () => seen.has('src/b.txt'));
    renameSync(join(root, 'src/b.txt'), join(root, 'src/c.txt'));
    await until('both names of a rename', () => seen.has('src/b.txt') && seen.has('src/c.txt'));
    mkdirSync(join(root, 'new/deeper'), { recursive: true });
    await until('a new directory', () => seen.has('new'));
    await new Promise((resolve) => setTimeout(resolve, 50)); // its watch is set up as the event arrives
    writeFileSync(join(root, 'new/deeper/d.txt'), 'd');
    await until('a file in a new directory', () => seen.has('new/deeper/d.txt'));
    rmSync(join(root, 'a.txt'));
    await until('a delete', () => seen.has('a.txt'));
    rmSync(join(root, 'new'), { recursive: true });
    mkdirSync(join(root, 'new'));
    await until('the directory made again', () => seen.has('new'));
    await new Promise((resolve) => setTimeout(resolve, 50));
    seen.clear();
    writeFileSync(join(root, 'new/again.txt'), 'a');
    await until('a file in the directory made again', () => seen.has('new/again.txt'));
    seen.clear();
    writeFileSync(join(root, 'node_modules/m.js'), 'not watched');
    writeFileSync(join(root, 'src/last.txt'), 'l');
    await until('the last write', () => seen.has('src/last.txt'));
    assert.ok(![...seen].some((p) => p.startsWith('node_modules')), [...seen].join(', '));
  } finally {
    await watcher.close();
    rmSync(root, { recursive: true, force: true });
  }
});
