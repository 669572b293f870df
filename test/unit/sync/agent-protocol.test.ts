import { test } from 'node:test';
import assert from 'node:assert/strict';
import { agentCommand, parseHashes, parseListing, pathList, pruneList, requestLine, ResponseReader } from '../../../src/sync/agent-protocol.js';

test('requests: a header line, then NUL-separated ./paths', () => {
  assert.equal(new TextDecoder().decode(requestLine('put', 7, 2048)), 'put 7 2048\n');
  assert.equal(new TextDecoder().decode(pathList(['a b', '-rf'])), './a b\0./-rf\0');
  assert.equal(new TextDecoder().decode(pruneList(['node_modules', '.git'])), 'node_modules\n.git\n');
  const command = agentCommand('/home/nocalhost-dev');
  assert.deepEqual([command[0], command[1], command[3], command[4]], ['sh', '-c', 'nh-sync', '/home/nocalhost-dev']);
});

test('responses are cut at their end lines, across any chunking', () => {
  const stream = Buffer.from('\n@@nh 0 0\nline one\nline two\n@@nh 1 0\n\n@@nh 2 3\ntar: oops\n@@nh 3 2\n');
  for (const size of [1, 2, 3, 7, 64, stream.length]) {
    const reader = new ResponseReader();
    const got = [];
    for (let i = 0; i < stream.length; i += size) got.push(...reader.push(stream.subarray(i, i + size)));
    assert.deepEqual(
      got.map((r) => [r.id, r.exitCode, r.body.toString()]),
      [[0, 0, ''], [1, 0, 'line one\nline two'], [2, 3, ''], [3, 2, 'tar: oops']],
      `chunks of ${size}`,
    );
  }
});

test('a marker-like line inside a body does not end it', () => {
  const reader = new ResponseReader();
  const got = reader.push(Buffer.from('x\n@@nh not-a-marker\ny\n@@nh 4 0\n'));
  assert.equal(got.length, 1);
  assert.equal(got[0]!.body.toString(), 'x\n@@nh not-a-marker\ny');
});

test('listing: stat lines and symlink targets', () => {
  const body = [
    '',
    '41ed 4096 1796014042 1796014050 ./a b',
    '81e9 12 1796014042 1796014050 ./a b/ü/f 1',
    'a1ff 4 1796014042 1796014050 ./a b/l',
    '1180 0 1796014042 1796014050 ./fifo',
    'garbage line',
    '@@links',
    './a b/l',
    '../x',
    '',
  ].join('\n');
  assert.deepEqual(parseListing(body), [
    { path: 'a b', kind: 'dir', mode: 0o755, size: 4096, mtimeMs: 1796014042000, writtenMs: 1796014050000 },
    { path: 'a b/ü/f 1', kind: 'file', mode: 0o751, size: 12, mtimeMs: 1796014042000, writtenMs: 1796014050000 },
    { path: 'a b/l', kind: 'link', mode: 0o777, size: 4, mtimeMs: 1796014042000, writtenMs: 1796014050000, target: '../x' },
    { path: 'fifo', kind: 'other', mode: 0o600, size: 0, mtimeMs: 1796014042000, writtenMs: 1796014050000 },
  ]);
});

test('md5sum output, GNU escapes included', () => {
  const body = [
    '9dd4e461268c8034f5c8564e155c67a6  ./a b/ü/f 1',
    '\\d41d8cd98f00b204e9800998ecf8427e  ./back\\\\slash',
    'md5sum: ./gone: No such file or directory',
  ].join('\n');
  assert.deepEqual([...parseHashes(body)], [
    ['a b/ü/f 1', '9dd4e461268c8034f5c8564e155c67a6'],
    ['back\\slash', 'd41d8cd98f00b204e9800998ecf8427e'],
  ]);
});
