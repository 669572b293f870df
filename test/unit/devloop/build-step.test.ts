import { test } from 'node:test';
import assert from 'node:assert/strict';
import { binaryOf, mapToLocal, runSteps, splitGoRun } from '../../../src/devloop/build-step.js';

test('a configured build is run as it is, before the command as it is', () => {
  assert.deepEqual(runSteps('api', ['go', 'run', '.'], ['make', 'build']), { run: ['go', 'run', '.'], build: ['make', 'build'] });
  assert.deepEqual(runSteps('api', ['node', 'server.js'], undefined), { run: ['node', 'server.js'], build: undefined });
});

test('go run becomes go build of the same package and flags, then the binary with the program\'s arguments', () => {
  const bin = binaryOf('inv entory');
  assert.equal(bin, '/tmp/.nh-bin-inv_entory');
  assert.deepEqual(splitGoRun(['go', 'run', '.'], bin), { build: ['go', 'build', '-o', bin, '.'], run: [bin] });
  assert.deepEqual(splitGoRun(['go', 'run', '-race', '-tags', 'dev', './cmd/api', '--port', '8080'], bin), {
    build: ['go', 'build', '-race', '-tags', 'dev', '-o', bin, './cmd/api'], run: [bin, '--port', '8080'],
  });
  assert.deepEqual(splitGoRun(['go', 'run', 'main.go', 'util.go', 'serve'], bin), { build: ['go', 'build', '-o', bin, 'main.go', 'util.go'], run: [bin, 'serve'] });
  assert.deepEqual(runSteps('inventory', ['go', 'run', '.'], []), splitGoRun(['go', 'run', '.'], binaryOf('inventory')), 'an empty build is unset');
});

test('what go run does its own way is left alone', () => {
  for (const command of [['go', 'run', '-exec', 'sudo', '.'], ['go', 'run'], ['go', 'run', '-tags'], ['go', 'build', '.'], ['node', 'run', '.']]) {
    assert.equal(splitGoRun(command, '/b'), undefined, command.join(' '));
  }
});

test('compiler positions point at the local files they were synced from', () => {
  const output = '# example.com/inv\n./main.go:12:5: undefined: foo\nmain.go:3:1: syntax error\n/src/pkg/a.go:7: bad\n/usr/local/go/src/x.go:1:1: not ours\nnote: see https://x.y/z.go:8\n';
  assert.equal(mapToLocal(output, '/src/', '/home/me/inv'), [
    '# example.com/inv',
    '/home/me/inv/main.go:12:5: undefined: foo',
    '/home/me/inv/main.go:3:1: syntax error',
    '/home/me/inv/pkg/a.go:7: bad',
    '/usr/local/go/src/x.go:1:1: not ours',
    'note: see https://x.y/z.go:8',
    '',
  ].join('\n'));
});
