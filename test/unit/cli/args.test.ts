// Command-line parsing on the real command table: global flags may come before the command's name.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCommandLine } from '../../../src/cli/args.js';
import { COMMANDS } from '../../../src/cli/commands/index.js';

const parse = (argv: string[]) => parseCommandLine(argv, COMMANDS);

test('a global flag with a value before the command: the value is not taken for the command', () => {
  for (const argv of [
    ['-f', 'app.yaml', 'validate'],
    ['--file', 'app.yaml', 'validate'],
    ['--file=app.yaml', 'validate'],
    ['-fapp.yaml', 'validate'],
    ['-vf', 'app.yaml', 'validate'],
  ]) {
    const parsed = parse(argv);
    assert.equal(parsed.command?.name, 'validate', argv.join(' '));
    assert.deepEqual(parsed.options['file'], ['app.yaml'], argv.join(' '));
    assert.deepEqual(parsed.positionals, [], argv.join(' '));
  }
});

test('cluster flags before the command, and the same flag before and after it', () => {
  const parsed = parse(['-n', 'team', '--kubeconfig', '/k', '--context', 'dev', '-f', 'a.yaml', 'up', 'api', '-f', 'b.yaml', '--detach']);
  assert.equal(parsed.command?.name, 'up');
  assert.equal(parsed.options['namespace'], 'team');
  assert.equal(parsed.options['kubeconfig'], '/k');
  assert.equal(parsed.options['context'], 'dev');
  assert.deepEqual(parsed.options['file'], ['a.yaml', 'b.yaml']);
  assert.equal(parsed.options['detach'], true);
  assert.deepEqual(parsed.positionals, ['api']);
});

test("before the command a short flag is the global one; after it the command's own (`nh logs -f` follows)", () => {
  const before = parse(['-f', 'app.yaml', 'logs', 'api']);
  assert.equal(before.command?.name, 'logs');
  assert.deepEqual(before.options['file'], ['app.yaml']);
  assert.equal(before.options['follow'], undefined);
  assert.deepEqual(before.positionals, ['api']);
  const after = parse(['logs', 'api', '-f']);
  assert.equal(after.options['follow'], true);
});

test('flags a command does not take are usage errors wherever they are', () => {
  assert.throws(() => parse(['--bogus', 'validate']), /unknown option '--bogus'/);
  assert.throws(() => parse(['--namespace', 'x', 'validate']), (e: Error & { code?: string }) => e.code === 'NH_USAGE');
  assert.throws(() => parse(['-f', 'app.yaml', 'deploy']), /unknown command `deploy`/);
});
