import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cutCheckLine, pidFileOf, ProcessSupervisor, runCommandLine, stopCommandLine, type ProcessState } from '../../../src/devloop/process-supervisor.js';
import { ExecError } from '../../../src/kube/exec.js';
import { fakeContainer } from './fake-container.js';
import type { PodTracker } from '../../../src/kube/pod-tracker.js';
import type { OpenExec } from '../../../src/kube/run-command.js';

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

const pod = { name: 'p1', uid: 'u1' };
const tracker = { namespace: 'ns', current: () => pod } as unknown as PodTracker;
const endpoint = { server: 'https://x', applyToHTTPSOptions: async () => undefined };

function supervised(exec: OpenExec) {
  const states: ProcessState[] = [];
  const notices: string[] = [];
  const supervisor = new ProcessSupervisor({
    service: 'api', container: 'c', workDir: '/app', command: ['node', 'server.js'], endpoint, pods: tracker, openExec: exec,
    onOutput: () => undefined, onState: (s) => states.push(s), onNotice: (m) => notices.push(m), reconnect: { initialMs: 5, maxMs: 10 },
  });
  return { supervisor, states, notices };
}

async function until(what: string, holds: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !holds(); i++) await new Promise((r) => setTimeout(r, 5));
  assert.ok(holds(), what);
}

test('an exec cut without an exit status is a lost connection, not a crash: nh reconnects and starts the command again', async () => {
  const lost = new ExecError('exec in ns/p1 ended without an exit status (socket closed, code 1006)', 'NH_EXEC_LOST');
  const unreachable = new ExecError('exec in ns/p1 failed: connect ECONNREFUSED', 'NH_EXEC_LOST');
  // First stop: before the first start (nothing runs); then the API server is away twice; then the process is found gone.
  const container = fakeContainer(['none', unreachable, unreachable, 'none']);
  const { supervisor, states, notices } = supervised(container.exec);
  const signal = new AbortController().signal;
  await supervisor.restart(signal);
  assert.equal(states.at(-1)?.kind, 'running');
  container.runs[0]!.reject(lost);
  await until('running again', () => container.runs.length === 2 && states.at(-1)?.kind === 'running');
  assert.ok(!states.some((s) => s.kind === 'crashed'), `never crashed: ${JSON.stringify(states)}`);
  assert.ok(states.some((s) => s.kind === 'reconnecting'));
  assert.deepEqual(notices, ['the connection to the container is back; the process had stopped with it: started it again']);
  await supervisor.stop();
});

test('after a lost connection a process that still runs is stopped before the command starts again; a real exit is still a crash', async () => {
  const container = fakeContainer(['none', 'stopped']);
  const { supervisor, states, notices } = supervised(container.exec);
  await supervisor.restart(new AbortController().signal);
  container.runs[0]!.reject(new ExecError('exec in ns/p1: no answer to pings for 6 s', 'NH_EXEC_LOST'));
  await until('running again', () => container.runs.length === 2 && states.at(-1)?.kind === 'running');
  assert.match(notices[0] ?? '', /still ran.*restarted it/);
  container.runs[1]!.resolve({ exitCode: 2, message: undefined });
  await until('crashed', () => states.at(-1)?.kind === 'crashed');
  assert.deepEqual(states.at(-1), { kind: 'crashed', exitCode: 2, message: undefined });
  await supervisor.stop();
});

test('an exit status after the watchdog stopped the process (the kubelet closed its stdin) is a lost connection too', async () => {
  const kubeletDown = new ExecError('exec in ns/p1 refused (HTTP 500): error dialing backend: dial tcp 127.0.0.1:20250: connect: connection refused', 'NH_EXEC_REFUSED', undefined, undefined, 500);
  // The first check cannot reach the container (the kubelet is away); the stop after it finds nothing left.
  const container = fakeContainer(['none', kubeletDown, 'none'], [kubeletDown]);
  const { supervisor, states } = supervised(container.exec);
  await supervisor.restart(new AbortController().signal);
  container.runs[0]!.resolve({ exitCode: 0, message: undefined });
  await until('running again', () => container.runs.length === 2 && states.at(-1)?.kind === 'running');
  assert.ok(!states.some((s) => s.kind === 'exited' || s.kind === 'crashed'), JSON.stringify(states));
  // Once the mark says the process ended by itself, its exit is reported as such.
  container.runs[1]!.resolve({ exitCode: 0, message: undefined });
  await until('exited', () => states.at(-1)?.kind === 'exited');
  await supervisor.stop();
});

test('the watchdog leaves its mark when the exec\'s stdin closes; the next run clears it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nh-sup-'));
  const pidFile = join(dir, 'run.pid');
  const [cmd, ...args] = runCommandLine(pidFile, dir, ['sleep', '30']);
  const child = spawn('setsid', ['-w', cmd!, ...args], { stdio: ['pipe', 'ignore', 'inherit'] });
  await pidOf(pidFile);
  child.stdin.end();
  await new Promise((resolve) => child.on('close', resolve));
  const [checkCmd, ...checkArgs] = cutCheckLine(pidFile);
  assert.equal(spawnSync(checkCmd!, checkArgs, { encoding: 'utf8' }).stdout.trim(), 'cut');
  // A command that exits by itself: the exec's stdin closes only after it (the kubelet reports the exit first).
  const [again, ...againArgs] = runCommandLine(pidFile, dir, ['true']);
  const second = spawn('setsid', ['-w', again!, ...againArgs], { stdio: ['pipe', 'ignore', 'inherit'] });
  await new Promise((resolve) => second.on('exit', resolve));
  second.stdin.end();
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal(spawnSync(checkCmd!, checkArgs, { encoding: 'utf8' }).stdout.trim(), 'exited');
});

test('a restart while the pod is not ready waits for it to be ready again, then starts the command', async () => {
  const container = fakeContainer([]);
  let ready: ((p: typeof pod) => void) | undefined;
  let current: typeof pod | undefined = undefined;
  const flaky = { namespace: 'ns', current: () => current, nextPod: () => new Promise((resolve) => (ready = resolve)) } as unknown as PodTracker;
  const states: ProcessState[] = [];
  const supervisor = new ProcessSupervisor({ service: 'api', container: 'c', workDir: '/app', command: ['node'], endpoint, pods: flaky, openExec: container.exec, onOutput: () => undefined, onState: (s) => states.push(s) });
  const started = supervisor.restart(new AbortController().signal);
  await until('waiting for a pod', () => states.at(-1)?.kind === 'waiting' && ready !== undefined);
  current = pod;
  ready!(pod);
  assert.notEqual(await started, undefined);
  assert.equal(container.runs.length, 1);
  await supervisor.stop();
});
