import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { commandInWorkDir, shellCommand } from '../../../src/cli/commands/exec.js';
import { tempDir } from '../../support/temp-dir.js';

// The scripts run in the container's sh; the local sh runs them the same way.
test('the shell is the configured one when present, else bash, else sh; it starts in workDir', () => {
  const dir = tempDir('nh-exec-');
  const [cmd, ...args] = shellCommand(dir, 'no-such-shell');
  const r = spawnSync(cmd!, args, { input: 'echo "$BASH_VERSION" | cut -c1; pwd\n', encoding: 'utf8' });
  const [bashMark, cwd] = r.stdout.trim().split('\n');
  assert.match(bashMark ?? '', /^\d$/, 'bash was chosen');
  assert.equal(cwd, dir);
});

test('a command runs word for word in workDir', () => {
  const dir = tempDir('nh-exec-');
  const [cmd, ...args] = commandInWorkDir(dir, ['sh', '-c', 'pwd; echo "$0"', 'a b;c']);
  assert.equal(spawnSync(cmd!, args, { encoding: 'utf8' }).stdout, `${dir}\na b;c\n`);
});
