import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pidFileOf, runCommandLine, stopCommandLine } from '../../../src/devloop/process-supervisor.js';

test('the command reaches exec word for word, never through a shell parse', () => {
  const line = runCommandLine('/tmp/p.pid', '/app', ['node', '-e', 'console.log("a b; $HOME")']);
  assert.deepEqual(line.slice(0, 2), ['sh', '-c']);
  assert.deepEqual(line.slice(3), ['nh-run', '/tmp/p.pid', '/app', 'node', '-e', 'console.log("a b; $HOME")']);
});

test('pid files are named after the service, safely', () => {
  assert.equal(pidFileOf('booking-api'), '/tmp/.nh-run-booking-api.pid');
  assert.equal(pidFileOf('a/b c'), '/tmp/.nh-run-a_b_c.pid');
});

// The scripts run in the container's sh (dash or busybox); the local sh runs them the same way.
test('run then stop: the whole process group ends, the pid file is gone', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nh-sup-'));
  const pidFile = join(dir, 'run.pid');
  const [cmd, ...args] = runCommandLine(pidFile, dir, ['sh', '-c', 'sleep 30 & sleep 30']);
  // setsid gives the script its own group, as the kubelet's exec does.
  const started = spawnSync('setsid', ['-f', cmd!, ...args], { stdio: 'ignore' });
  assert.equal(started.status, 0);
  let pgid = '';
  for (let i = 0; i < 50 && !pgid; i++) {
    try {
      pgid = readFileSync(pidFile, 'utf8').trim();
    } catch {
      spawnSync('sleep', ['0.05']);
    }
  }
  assert.match(pgid, /^\d+$/);
  const [stopCmd, ...stopArgs] = stopCommandLine(pidFile, 1);
  const stopped = spawnSync(stopCmd!, stopArgs, { encoding: 'utf8' });
  assert.equal(stopped.stdout.trim(), 'stopped');
  // Killed members may linger a moment as zombies until init reaps them (kill -0 still finds those).
  let alive = true;
  for (let i = 0; i < 40 && alive; i++) {
    alive = spawnSync('sh', ['-c', `ps -eo pgid=,stat= | awk '$1 == ${pgid} && $2 !~ /^Z/' | grep -q .`]).status === 0;
    if (alive) spawnSync('sleep', ['0.05']);
  }
  assert.equal(alive, false, 'no live member of the group is left');
  const again = spawnSync(stopCmd!, stopArgs, { encoding: 'utf8' });
  assert.equal(again.stdout.trim(), 'none');
});

function groupAlive(pgid: string): boolean {
  return spawnSync('sh', ['-c', `ps -eo pgid=,stat= | awk '$1 == ${pgid} && $2 !~ /^Z/' | grep -q .`]).status === 0;
}

async function pidOf(pidFile: string): Promise<string> {
  for (let i = 0; i < 100; i++) {
    try {
      const pid = readFileSync(pidFile, 'utf8').trim();
      if (pid) return pid;
    } catch {
      // not written yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('no pid file');
}

test('when the exec\'s stdin closes (nh died), the watchdog stops the whole group', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nh-sup-'));
  const pidFile = join(dir, 'run.pid');
  const [cmd, ...args] = runCommandLine(pidFile, dir, ['sh', '-c', 'sleep 30 & sleep 30']);
  const child = spawn('setsid', [cmd!, ...args], { stdio: ['pipe', 'ignore', 'ignore'] });
  const pgid = await pidOf(pidFile);
  assert.ok(groupAlive(pgid));
  child.stdin.end();
  let alive = true;
  for (let i = 0; i < 60 && alive; i++) {
    alive = groupAlive(pgid);
    if (alive) await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal(alive, false, 'no live member of the group is left');
});

test('a command that ends by itself ends the exec with its output and code while stdin stays open', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nh-sup-'));
  const [cmd, ...args] = runCommandLine(join(dir, 'run.pid'), dir, ['sh', '-c', 'echo hi; read -r line; echo "read: ${line:-nothing}"; exit 3']);
  const child = spawn('setsid', ['-w', cmd!, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  assert.equal(code, 3);
  assert.equal(out, 'hi\nread: nothing\n', 'the command reads /dev/null, not the exec\'s stdin');
  child.stdin.end();
});
