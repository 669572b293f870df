// The local side on a real temp directory: the walk (rules, .gitignore files, symlinks never followed,
// special files reported), the archive stream, and the directory-level watcher.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { localArchive, type LocalArchive, type UnreadableFileError } from '../../../src/sync/local-archive.js';
import { openForReading, scanLocalTree, type OpenFile } from '../../../src/sync/local-tree.js';
import { SyncRules } from '../../../src/sync/rules.js';
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

async function archiveOf(archive: LocalArchive): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of archive.chunks) chunks.push(Buffer.from(chunk));
  assert.ok(chunks.every((c) => c.length <= 1024 * 1024));
  return Buffer.concat(chunks);
}

test('the archive has exactly the announced size, even when a file shrank or vanished meanwhile', async () => {
  const big = 'b'.repeat(300 * 1024); // streamed, not read at once
  const root = tempTree({ 'small.txt': 'hello', 'big.bin': big, 'gone.txt': 'soon gone' });
  try {
    const scan = await scanLocalTree(root, SyncRules.compile({ mode: 'pattern', filePatterns: ['.'], ignorePatterns: [] }));
    const entries = [...scan.tree.values()].sort((a, b) => (a.path < b.path ? -1 : 1));
    rmSync(join(root, 'gone.txt'));
    writeFileSync(join(root, 'small.txt'), 'hi');
    const problems: UnreadableFileError[] = [];
    const archive = localArchive(root, entries, openForReading, (e) => problems.push(e));
    const bytes = await archiveOf(archive);
    assert.equal(bytes.length, archive.size);
    assert.ok(bytes.includes(Buffer.from(big)));
    assert.deepEqual(problems.map((p) => [p.path, p.gone]), [['gone.txt', true]], 'a vanished file is left out, as gone');
    assert.ok(!bytes.includes(Buffer.from('gone.txt')), 'no header for it');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('an archive of many MiB is read through one buffer, not one per MiB (garbage as large as the put)', async () => {
  const files = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`chunk-${i}.js`, String(i % 10).repeat(200 * 1024)]));
  const root = tempTree(files);
  try {
    const scan = await scanLocalTree(root, SyncRules.compile({ mode: 'pattern', filePatterns: ['.'], ignorePatterns: [] }));
    const archive = localArchive(root, [...scan.tree.values()], openForReading, () => assert.fail('every file is readable'));
    const buffers = new Set<ArrayBufferLike>();
    const chunks: Buffer[] = [];
    for await (const chunk of archive.chunks) {
      buffers.add(chunk.buffer);
      chunks.push(Buffer.from(chunk));
    }
    assert.ok(chunks.length >= 8, `${chunks.length} chunks`);
    assert.equal(buffers.size, 1, `${chunks.length} chunks in ${buffers.size} buffers`);
    const bytes = Buffer.concat(chunks);
    assert.equal(bytes.length, archive.size);
    for (const [name, content] of Object.entries(files)) assert.ok(bytes.includes(Buffer.from(`${name}`)) && bytes.includes(Buffer.from(content)), name);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('GNU tar and busybox tar extract an archive that left unreadable files out, keeping their old copies', async () => {
  const root = tempTree({ 'a.txt': 'new a', 'secret.txt': 'new secret', 'big.bin': 'n'.repeat(300 * 1024), 'z.txt': 'new z' });
  const refused = new Set(['secret.txt', 'big.bin']);
  // Root reads any mode: the refusal is injected, as open(2) gives it to a user without read permission.
  const open: OpenFile = (file) => {
    if (refused.has(relative(root, file))) throw Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' });
    return openForReading(file);
  };
  try {
    const scan = await scanLocalTree(root, SyncRules.compile({ mode: 'pattern', filePatterns: ['.'], ignorePatterns: [] }));
    const problems: UnreadableFileError[] = [];
    const archive = localArchive(root, [...scan.tree.values()], open, (e) => problems.push(e));
    const bytes = await archiveOf(archive);
    assert.equal(bytes.length, archive.size);
    assert.deepEqual(problems.map((p) => [p.path, p.gone, p.code]).sort(), [['big.bin', false, 'NH_SYNC_UNREADABLE'], ['secret.txt', false, 'NH_SYNC_UNREADABLE']]);
    assert.ok(bytes.length < 300 * 1024, 'the large file is left out before the size is announced: no padding for it');
    const tars = [['tar'], ...(spawnSync('busybox', ['true']).error ? [] : [['busybox', 'tar']])];
    for (const [command, ...args] of tars) {
      const container = tempTree({ 'secret.txt': 'old secret', 'big.bin': 'old big' });
      try {
        execFileSync(command!, [...args, '-xf', '-'], { cwd: container, input: bytes });
        const read = (path: string) => readFileSync(join(container, path), 'utf8');
        assert.deepEqual([read('a.txt'), read('z.txt'), read('secret.txt'), read('big.bin')], ['new a', 'new z', 'old secret', 'old big'], command);
      } finally {
        rmSync(container, { recursive: true, force: true });
      }
    }
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
    // Written in the same tick as the directories are made, so before their watches exist: the files are
    // found when the new directories are first read.
    mkdirSync(join(root, 'new/deeper'), { recursive: true });
    writeFileSync(join(root, 'new/deeper/d.txt'), 'd');
    await until('a file in a new directory', () => seen.has('new') && seen.has('new/deeper') && seen.has('new/deeper/d.txt'));
    writeFileSync(join(root, 'new/deeper/e.txt'), 'e');
    await until('a file written once the new directory is watched', () => seen.has('new/deeper/e.txt'));
    rmSync(join(root, 'a.txt'));
    await until('a delete', () => seen.has('a.txt'));
    rmSync(join(root, 'new'), { recursive: true });
    mkdirSync(join(root, 'new'));
    writeFileSync(join(root, 'new/again.txt'), 'a');
    await until('a file in the directory made again', () => seen.has('new/again.txt'));
    writeFileSync(join(root, 'new/later.txt'), 'l');
    await until('a file written once the directory made again is watched', () => seen.has('new/later.txt'));
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
