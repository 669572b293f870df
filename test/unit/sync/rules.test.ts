import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SyncRules, toGitignorePattern, type RuleSettings } from '../../../src/sync/rules.js';

const everything: RuleSettings = { mode: 'pattern', filePatterns: ['.'], ignorePatterns: [] };

test('patterns: `.` is everything, `./x` is anchored at the root', () => {
  assert.equal(toGitignorePattern('.'), '*');
  assert.equal(toGitignorePattern('./'), '*');
  assert.equal(toGitignorePattern('./src'), '/src');
  assert.equal(toGitignorePattern(' *.go '), '*.go');
  assert.equal(toGitignorePattern('build/'), 'build/');
});

test('the default whitelist selects everything but the built-in ignores', () => {
  const rules = SyncRules.compile(everything);
  for (const path of ['a.js', 'src/deep/x.ts', '.env', '.gitignore', 'a b/ü.txt']) assert.ok(rules.selects(path, false), path);
  for (const path of ['.git', 'sub/.git', '.git/config', 'a.swp', 'dir/.b.swx', 'x.swo', 'notes~', '.#lock', '4913', 'd/4913']) {
    assert.ok(!rules.selects(path, false), path);
    assert.ok(rules.isIgnored(path, false), path);
  }
  assert.ok(rules.isIgnored('.git', true));
});

test('a whitelist naming a directory includes everything below it; a glob matches at any depth', () => {
  const rules = SyncRules.compile({ mode: 'pattern', filePatterns: ['./src', '*.go'], ignorePatterns: [] });
  assert.ok(rules.selects('src', true));
  assert.ok(rules.selects('src/a/b.txt', false));
  assert.ok(rules.selects('cmd/main.go', false));
  assert.ok(!rules.selects('README.md', false));
  assert.ok(!rules.selects('lib/src/x', false), 'anchored: lib/src is not ./src');
  // Not whitelisted is not ignored: the walker still descends to find *.go files.
  assert.ok(!rules.isIgnored('cmd', true));
});

test('ignore patterns beat the whitelist and take directories along', () => {
  const rules = SyncRules.compile({ mode: 'pattern', filePatterns: ['.'], ignorePatterns: ['node_modules', './build', '*.log', 'tmp/'] });
  assert.ok(!rules.selects('node_modules', true));
  assert.ok(!rules.selects('node_modules/x/index.js', false));
  assert.ok(!rules.selects('pkg/node_modules/y', false), 'a bare name matches at any depth');
  assert.ok(!rules.selects('build/out.js', false));
  assert.ok(rules.selects('src/build/out.js', false), './build is anchored');
  assert.ok(!rules.selects('a/b/c.log', false));
  assert.ok(!rules.selects('tmp', true));
  assert.ok(rules.selects('tmp', false), 'tmp/ names directories only');
});

test('gitIgnore mode honours nested .gitignore files, deeper ones winning', () => {
  const gitignores = new Map([
    ['', 'dist/\n*.log\n!keep.log\n'],
    ['web', 'cache\n!important.log\n'],
    ['web/deep', '!cache\n'],
  ]);
  const rules = SyncRules.compile({ mode: 'gitIgnore', filePatterns: ['.'], ignorePatterns: [] }, gitignores);
  assert.ok(!rules.selects('dist', true));
  assert.ok(!rules.selects('dist/app.js', false));
  assert.ok(rules.selects('dist', false), 'dist/ names directories only');
  assert.ok(!rules.selects('a.log', false));
  assert.ok(rules.selects('keep.log', false));
  assert.ok(rules.selects('web/important.log', false), 'a deeper .gitignore re-includes');
  assert.ok(!rules.selects('web/cache', false));
  assert.ok(rules.selects('web/deep/cache', false), 'the deepest file decides');
  assert.ok(!rules.selects('dist/deep/keep.log', false), 'an ignored directory takes everything below along');
});

test('.gitignore files are ignored in pattern mode, and can be added and removed later', () => {
  const pattern = SyncRules.compile(everything, new Map([['', '*.txt']]));
  assert.ok(pattern.selects('a.txt', false));
  const git = SyncRules.compile({ ...everything, mode: 'gitIgnore' });
  assert.ok(git.selects('a.txt', false));
  const withFile = git.withGitignore('', '*.txt');
  assert.ok(!withFile.selects('a.txt', false));
  assert.ok(withFile.withGitignore('', undefined).selects('a.txt', false));
});

test('names the container listing may skip: bare directory names, only when nothing is negated', () => {
  const rules = SyncRules.compile({ mode: 'pattern', filePatterns: ['.'], ignorePatterns: ['node_modules/', 'dist', './build', '*.log', 'a/b', 'has space'] });
  assert.deepEqual(rules.prunableNames(), ['.git', '4913', 'node_modules', 'dist']);
  assert.deepEqual(SyncRules.compile({ mode: 'pattern', filePatterns: ['.'], ignorePatterns: ['node_modules', '!node_modules/keep'] }).prunableNames(), []);
});
