import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ancestorsOf, assertSafePath, isWithin, pathProblem, relativeToRoot } from '../../../src/sync/paths.js';

test('only plain relative paths may be written in the container', () => {
  for (const ok of ['a', 'a/b', 'a b/ü ñ.txt', '..a', 'a..', '.env', 'x/.../y']) assert.equal(pathProblem(ok), undefined, ok);
  assert.equal(pathProblem(''), 'empty');
  assert.equal(pathProblem('/etc/passwd'), 'absolute');
  assert.equal(pathProblem('..'), 'parent-segment');
  assert.equal(pathProblem('a/../../b'), 'parent-segment');
  assert.equal(pathProblem('./a'), 'dot-segment');
  assert.equal(pathProblem('a//b'), 'empty-segment');
  assert.equal(pathProblem('a/'), 'empty-segment');
  assert.equal(pathProblem('a\nb'), 'control-character');
  assert.equal(pathProblem('a\0b'), 'control-character');
  assert.throws(() => assertSafePath('../x'), /refusing to write/);
});

test('relativeToRoot keeps paths below the root and nothing else', () => {
  assert.equal(relativeToRoot('/src/app', '/src/app/a/b.js'), 'a/b.js');
  assert.equal(relativeToRoot('/src/app/', '/src/app/a'), 'a');
  assert.equal(relativeToRoot('/src/app', '/src/app'), undefined);
  assert.equal(relativeToRoot('/src/app', '/src/apple/x'), undefined);
  assert.equal(relativeToRoot('/src/app', '/etc/passwd'), undefined);
  assert.equal(relativeToRoot('C:\\app', 'C:\\app\\a\\b.js', '\\'), 'a/b.js');
});

test('ancestors and containment', () => {
  assert.deepEqual(ancestorsOf('a/b/c'), ['a', 'a/b']);
  assert.deepEqual(ancestorsOf('a'), []);
  assert.ok(isWithin('a/b', 'a'));
  assert.ok(isWithin('a', 'a'));
  assert.ok(!isWithin('ab', 'a'));
});
