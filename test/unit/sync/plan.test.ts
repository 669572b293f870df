import { test } from 'node:test';
import assert from 'node:assert/strict';
import { contentChecks, planLiveBatch, planSync, topmost } from '../../../src/sync/plan.js';
import { SyncRules } from '../../../src/sync/rules.js';
import { treeOf, type TreeEntry } from '../../../src/sync/tree.js';

const rules = SyncRules.compile({ mode: 'pattern', filePatterns: ['.'], ignorePatterns: ['node_modules'] });
const file = (path: string, size = 1, mode = 0o644): TreeEntry => ({ path, kind: 'file', mode, size, mtimeMs: 0 });
const dir = (path: string, mode = 0o755): TreeEntry => ({ path, kind: 'dir', mode, size: 0, mtimeMs: 0 });
const link = (path: string, target: string): TreeEntry => ({ path, kind: 'link', mode: 0o777, size: 0, mtimeMs: 0, target });
const noHashes = { local: new Map<string, string>(), remote: new Map<string, string>() };

test('an unchanged tree sends nothing', () => {
  const tree = treeOf([dir('src'), file('src/a.js', 5), link('l', 'src'), file('run.sh', 9, 0o755)]);
  const remote = treeOf([dir('src'), file('src/a.js', 5, 0o664), link('l', 'src'), file('run.sh', 9, 0o775)]);
  const hashes = { local: new Map([['src/a.js', 'h1'], ['run.sh', 'h2']]), remote: new Map([['src/a.js', 'h1'], ['run.sh', 'h2']]) };
  assert.deepEqual(contentChecks(tree, remote, false).hash, ['run.sh', 'src/a.js']);
  const plan = planSync(tree, remote, hashes, rules, 1e9);
  assert.deepEqual(plan.puts, []);
  assert.deepEqual(plan.deletes, []);
  assert.equal(plan.bytes, 0);
});

test('the mtime quick check: same size and mtime second is equal without a hash; --check hashes all', () => {
  const at = (entry: TreeEntry, mtimeMs: number): TreeEntry => ({ ...entry, mtimeMs });
  const local = treeOf([at(file('same', 4), 1_700_000_000_900), at(file('touched', 4), 1_700_000_005_000), at(file('resized', 5), 0)]);
  const remote = treeOf([at(file('same', 4), 1_700_000_000_000), at(file('touched', 4), 1_700_000_009_000), at(file('resized', 4), 0)]);
  const quick = contentChecks(local, remote, true);
  assert.deepEqual(quick.hash, ['touched']);
  assert.deepEqual([...quick.sameByStat], ['same']);
  assert.deepEqual(contentChecks(local, remote, false).hash, ['same', 'touched']);
  const plan = planSync(local, remote, { local: new Map([['touched', 'a']]), remote: new Map([['touched', 'a']]), sameByStat: quick.sameByStat }, rules, 1e9);
  assert.deepEqual(plan.differences, [{ path: 'resized', reason: 'content' }]);
});

test('racy: a local edit in the second the copy was written is hashed, not trusted by its mtime', () => {
  const local = treeOf([{ ...file('racy', 3), mtimeMs: 1_700_000_000_600 }, { ...file('settled', 3), mtimeMs: 1_700_000_000_100 }]);
  const remote = treeOf([
    { ...file('racy', 3), mtimeMs: 1_700_000_000_000, writtenMs: 1_700_000_000_000 },
    { ...file('settled', 3), mtimeMs: 1_700_000_000_000, writtenMs: 1_700_000_001_000 },
  ]);
  const quick = contentChecks(local, remote, true);
  assert.deepEqual(quick.hash, ['racy']);
  assert.deepEqual([...quick.sameByStat], ['settled']);
});

test('an empty container gets everything, directories first', () => {
  const tree = treeOf([file('src/a.js', 5), dir('src'), file('b', 0)]);
  const plan = planSync(tree, new Map(), noHashes, rules, 1e9);
  assert.deepEqual(plan.puts.map((e) => e.path), ['b', 'src', 'src/a.js']);
  assert.equal(plan.bytes, 5);
  assert.ok(plan.differences.every((d) => d.reason === 'missing'));
});

test('content, mode, link target and kind changes', () => {
  const tree = treeOf([file('a', 3), file('b', 3, 0o755), link('c', 'x'), file('d', 1), dir('e'), file('f', 2)]);
  const remote = treeOf([file('a', 3), file('b', 3), link('c', 'y'), dir('d'), file('d/inner'), file('e'), file('f', 3)]);
  const hashes = { local: new Map([['a', 'new'], ['b', 'same']]), remote: new Map([['a', 'old'], ['b', 'same']]) };
  const plan = planSync(tree, remote, hashes, rules, 1e9);
  assert.deepEqual(plan.differences, [
    { path: 'a', reason: 'content' },
    { path: 'b', reason: 'mode' },
    { path: 'c', reason: 'target' },
    { path: 'd', reason: 'kind' },
    { path: 'e', reason: 'kind' },
    { path: 'f', reason: 'content' },
  ]);
  assert.deepEqual(plan.deletes, ['d', 'e'], 'a kind change deletes first');
});

test('extra entries are deleted at the top, but never what the rules do not sync', () => {
  const tree = treeOf([dir('app')]);
  const remote = treeOf([dir('app'), dir('old'), file('old/a'), file('old/b'), dir('pkg'), file('pkg/x'), dir('pkg/node_modules'), file('pkg/node_modules/m'), dir('node_modules')]);
  const plan = planSync(tree, remote, noHashes, rules, 1e9);
  assert.deepEqual(plan.deletes, ['old', 'pkg/x'], 'pkg is emptied, not removed: it holds node_modules');
});

test('files over the limit are reported, not sent, not deleted', () => {
  const tree = treeOf([file('big', 500), file('small', 5)]);
  const remote = treeOf([file('big', 1)]);
  const plan = planSync(tree, remote, noHashes, rules, 100);
  assert.deepEqual(plan.tooLarge.map((e) => e.path), ['big']);
  assert.deepEqual(plan.puts.map((e) => e.path), ['small']);
  assert.deepEqual(plan.deletes, []);
});

test('a live batch: changes, deletes of known paths only, renames, kind changes', () => {
  const known = new Map([['old.js', 'file'], ['dir', 'dir'], ['dir/x', 'file'], ['swap', 'file']] as const);
  const changes = new Map<string, TreeEntry | undefined>([
    ['old.js', undefined], // renamed away
    ['new.js', file('new.js', 4)], // renamed to
    ['dir', undefined],
    ['dir/x', undefined],
    ['never-synced', undefined], // created and removed between two batches
    ['swap', dir('swap')],
    ['node_modules/a', file('node_modules/a')],
    ['huge', file('huge', 1e6)],
  ]);
  const plan = planLiveBatch(changes, known, rules, 1000);
  assert.deepEqual(plan.deletes, ['dir', 'old.js', 'swap']);
  assert.deepEqual(plan.puts.map((e) => e.path), ['new.js', 'swap']);
  assert.deepEqual(plan.tooLarge.map((e) => e.path), ['huge']);
});

test('topmost keeps the outermost of nested paths', () => {
  assert.deepEqual(topmost(['a/b', 'a', 'a b', 'c/d', 'c/d/e', 'a']), ['a', 'a b', 'c/d']);
});
