// The supervisor and its script, run for real on this machine (local-container.ts): one channel per pod,
// restarts on it, listening, builds, the watchdog and lost connections.
import { createHook } from 'node:async_hooks';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pidFileOf, ProcessSupervisor, type ProcessState, type SupervisorOptions } from '../../../src/devloop/process-supervisor.js';
import { handoffHelperPath, quoteWords, standbyCommand, supervisorCommandLine, SupervisorReader } from '../../../src/devloop/supervisor-script.js';
import type { PodTracker } from '../../../src/kube/pod-tracker.js';
import { localContainer } from './local-container.js';
import { execUrl, type ExecResult } from '../../../src/kube/exec.js';
import type { OpenExec } from '../../../src/kube/run-command.js';

const pod = { name: 'p1', uid: 'u1' };
const tracker = { namespace: 'ns', current: () => pod } as unknown as PodTracker;
const endpoint = { server: 'https://x', applyToHTTPSOptions: async () => undefined };
let serial = 0;

function groupAlive(pgid: string): boolean {
  return spawnSync('sh', ['-c', `ps -eo pgid=,stat= | awk '$1 == ${pgid} && $2 !~ /^Z/' | grep -q .`]).status === 0;
}

async function until(what: string, holds: () => boolean, tries = 400): Promise<void> {
  for (let i = 0; i < tries && !holds(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(holds(), what);
}

function supervised(command: readonly string[], extra: Partial<SupervisorOptions> = {}, env?: NodeJS.ProcessEnv) {
  const container = localContainer(env);
  const states: ProcessState[] = [];
  const notices: string[] = [];
  let output = '';
  const service = `nh-test-${process.pid}-${serial++}`;
  const workDir = mkdtempSync(join(tmpdir(), 'nh-sup-'));
  const supervisor = new ProcessSupervisor({
    service, container: 'c', workDir, command, endpoint, pods: tracker, openExec: container.exec, graceSeconds: 0.5,
    onOutput: (_stream, data) => (output += data.toString('utf8')), onState: (s) => states.push(s), onNotice: (m) => notices.push(m),
    reconnect: { initialMs: 5, maxMs: 10 }, ...extra,
  });
  // Files in the work dir where a test's commands list pids to kill (processes outside the supervised group)
  const listedPids: string[] = [];
  const cleanUp = async () => {
    for (const file of listedPids) killListed(workDir, file)();
    await supervisor.stop();
    container.cleanUp();
    rmSync(workDir, { recursive: true, force: true });
  };
  const killAtCleanUp = (file: string) => void listedPids.push(file);
  return { supervisor, container, states, notices, output: () => output, pidFile: pidFileOf(service), workDir, cleanUp, killAtCleanUp };
}

function freePort(): Promise<number> {
  return new Promise<number>((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

const signal = new AbortController().signal;
/** Prints `run PID` and stays, with a child in its group. */
const STAY = ['sh', '-c', 'echo "run $$"; sleep 30 & wait'];

test('words reach the command exactly: quoted for sh, never expanded', () => {
  const words = ['node', '-e', 'console.log("a b; $HOME `x`")', "it's", '', '*'];
  const r = spawnSync('sh', ['-c', `eval "set -- $1"; for w; do printf '[%s]' "$w"; done`, 'sh', quoteWords(words)], { encoding: 'utf8' });
  assert.equal(r.stdout, words.map((w) => `[${w}]`).join(''));
});

test('the reader separates events from output, across chunk boundaries and after an unended line', () => {
  const reader = new SupervisorReader('abc');
  const first = reader.push(Buffer.from('hello\npartial@@nh-ab'));
  const second = reader.push(Buffer.from('c started 1 2 none\nworld @@nh-abc exited 2 3\n@@'));
  const third = reader.push(Buffer.from('x\n'));
  assert.equal(Buffer.concat([...first.output, ...second.output, ...third.output]).toString(), 'hello\npartialworld @@x\n');
  assert.deepEqual([...first.events, ...second.events, ...third.events], [
    { kind: 'started', id: 1, generation: 2, stoppedOld: false },
    { kind: 'exited', generation: 2, exitCode: 3 },
  ]);
});

test('restart stops the whole old group and starts the new one on the same channel; stop leaves nothing', async (t) => {
  const s = supervised(STAY);
  t.after(s.cleanUp);
  assert.notEqual(await s.supervisor.restart(signal), undefined);
  await until('first run', () => /run \d+/.test(s.output()));
  const first = /run (\d+)/.exec(s.output())![1]!;
  assert.notEqual(await s.supervisor.restart(signal), undefined);
  await until('second run', () => (s.output().match(/run \d+/g) ?? []).length === 2);
  assert.equal(groupAlive(first), false, 'the first group is gone');
  assert.equal(s.container.execs.length, 1, 'one exec for both starts');
  assert.ok(!s.states.some((x) => x.kind === 'crashed' || x.kind === 'exited'), JSON.stringify(s.states));
  const second = readFileSync(s.pidFile, 'utf8').trim();
  await s.supervisor.stop();
  await until('the second group gone', () => !groupAlive(second));
  assert.equal(s.states.at(-1)?.kind, 'stopped');
});

test('a process that ends by itself is reported with its code; the next restart starts it again', async (t) => {
  const s = supervised(['sh', '-c', 'echo "run $$"; exit 3']);
  t.after(s.cleanUp);
  await s.supervisor.restart(signal);
  await until('crashed', () => s.states.at(-1)?.kind === 'crashed');
  assert.deepEqual(s.states.at(-1), { kind: 'crashed', exitCode: 3, message: undefined });
  await s.supervisor.restart(signal);
  await until('crashed again', () => s.states.filter((x) => x.kind === 'crashed').length === 2);
});

test('with a port, the new process counts as serving once it listens there, not when it starts', async (t) => {
  const port = await freePort();
  let servingAt = 0;
  let listenedAt = 0;
  const s = supervised(['node', '-e', `setTimeout(() => require('net').createServer().listen(${port}, '127.0.0.1', () => console.log('listening')), 300)`], {
    port, onServing: () => (servingAt = Date.now()),
  });
  t.after(s.cleanUp);
  const startedAt = (await s.supervisor.restart(signal))!;
  await until('listening', () => s.output().includes('listening'));
  listenedAt = Date.now();
  await until('serving', () => servingAt > 0);
  assert.ok(servingAt >= startedAt, 'serving comes after the start');
  assert.ok(servingAt + 100 >= listenedAt - 100, 'and not before the process listens');
});


test('a process with no socket of its own does not count as serving on a port something else holds; one whose child listens does', async (t) => {
  // The socket table is read only once the process (alone in its group) has a socket open: a read costs the
  // node ≈ 3 ms of CPU a file, as much as a Go binary's start.
  const port = await freePort();
  const holder = createServer().listen(port, '127.0.0.1');
  t.after(() => holder.close());
  let serving = 0;
  const lone = supervised(['sleep', '30'], { port, onServing: () => serving++ });
  t.after(lone.cleanUp);
  await lone.supervisor.restart(signal);
  await new Promise((r) => setTimeout(r, 400));
  assert.equal(serving, 0, 'no socket, not serving');
  const listener = await freePort();
  let childServing = 0;
  const parent = supervised(['sh', '-c', `node -e "require('net').createServer().listen(${listener}, '127.0.0.1')"; true`], { port: listener, onServing: () => childServing++ });
  t.after(parent.cleanUp);
  await parent.supervisor.restart(signal);
  await until('the child listens', () => childServing === 1, 1_000);
});
test('a process whose server child was forked by another of its threads (as a Go program forks) counts as serving once the child listens', async (t) => {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'nh-thread-fork-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'server.js'), `require('net').createServer().listen(${port}, '127.0.0.1')`);
  // A worker thread forks the server and stays: /proc/PID/task/PID/children, the main thread's, does not list it.
  const fork = `require('child_process').spawn(process.execPath, [${JSON.stringify(join(dir, 'server.js'))}], { stdio: 'inherit' }); setInterval(() => {}, 60000)`;
  writeFileSync(join(dir, 'parent.js'), `new (require('worker_threads').Worker)(${JSON.stringify(fork)}, { eval: true })`);
  let serving = 0;
  const s = supervised(['node', join(dir, 'parent.js')], { port, onServing: () => serving++ });
  t.after(s.cleanUp);
  await s.supervisor.restart(signal);
  // Before, the script looked only at the main thread's children and gave up looking after ≈ 30–60 s.
  await until('serving', () => serving === 1, 500);
});

test('a process that listens at once (its start and listening in one chunk) counts as serving', async (t) => {
  // The script's two lines reach nh together when the new process listens within a few ms (a Go binary):
  // a channel that answers a start with both in one chunk.
  const execs: string[][] = [];
  const oneChunk: OpenExec = async (_endpoint, _target, command, options) => {
    execs.push([...command]);
    const marker = command[4]!;
    const say = (text: string) => options.onStdout(Buffer.from(text.split('\n').map((line) => line && `@@nh-${marker} ${line}`).join('\n')));
    let generation = 0;
    let end!: () => void;
    // The script exits when its stdin ends.
    const done = new Promise<ExecResult>((resolve) => (end = () => resolve({ exitCode: 0, message: undefined })));
    queueMicrotask(() => say('ready\n'));
    return {
      protocol: 'v5.channel.k8s.io',
      done,
      write: async (data) => {
        const [op, id] = Buffer.from(data).toString().trim().split(' ');
        if (op === 'start') say(`started ${id} ${++generation} none\nlistening ${id} ${generation}\n`);
        if (op === 'stop') say(`stopped ${id} none\n`);
      },
      closeStdin: () => end(),
      terminate: () => end(),
      resize: () => undefined,
    };
  };
  let serving = 0;
  const s = supervised(STAY, { port: 8080, openExec: oneChunk, onServing: () => serving++ });
  t.after(s.cleanUp);
  await s.supervisor.restart(signal);
  await s.supervisor.restart(signal);
  assert.equal(serving, 2, 'each start served at once');
  assert.equal(execs.length, 1);
});

test('a process slow to start (a loaded node) is still followed: it counts as serving once it listens, and the next restart stops it', async (t) => {
  // setsid that takes 4 s, as a fork and exec can on a node at a load of 20: the pid file comes late.
  const bin = mkdtempSync(join(tmpdir(), 'nh-slow-setsid-'));
  const real = spawnSync('sh', ['-c', 'command -v setsid'], { encoding: 'utf8' }).stdout.trim();
  writeFileSync(join(bin, 'setsid'), `#!/bin/sh\nsleep 4\nexec ${real} "$@"\n`, { mode: 0o755 });
  t.after(() => rmSync(bin, { recursive: true, force: true }));
  const port = await freePort();
  let serving = 0;
  const s = supervised(['node', '-e', `require('net').createServer().listen(${port}, '127.0.0.1', () => console.log('run ' + process.pid))`], {
    port, onServing: () => serving++,
  }, { ...process.env, PATH: `${bin}:${process.env['PATH']}` });
  t.after(s.cleanUp);
  await s.supervisor.restart(signal);
  // The script may see the socket listening before the process's own line (printed once it listens) comes through.
  await until('serving, and its pid printed', () => serving === 1 && /run \d+/.test(s.output()), 1_000);
  const first = /run (\d+)/.exec(s.output())![1]!;
  await s.supervisor.restart(signal);
  await until('serving again', () => serving === 2, 1_000);
  assert.equal(groupAlive(first), false, 'the first process was stopped');
});

test('a process slow to listen is looked for less and less often: ≈ 160 looks in 5 s, not one every 4 ms', async (t) => {
  // Each look forks a `sleep`: a `sleep` first on the PATH counts them. Every 4 ms throughout, 5 s took 534.
  const bin = mkdtempSync(join(tmpdir(), 'nh-count-sleep-'));
  const real = spawnSync('sh', ['-c', 'command -v sleep'], { encoding: 'utf8' }).stdout.trim();
  const calls = join(bin, 'calls');
  writeFileSync(join(bin, 'sleep'), `#!/bin/sh\necho "$1" >> ${calls}\nexec ${real} "$@"\n`, { mode: 0o755 });
  t.after(() => rmSync(bin, { recursive: true, force: true }));
  const port = await freePort();
  let serving = 0;
  const s = supervised(['node', '-e', `setTimeout(() => require('net').createServer().listen(${port}, '127.0.0.1'), 5000)`], {
    port, onServing: () => serving++,
  }, { ...process.env, PATH: `${bin}:${process.env['PATH']}` });
  t.after(s.cleanUp);
  await s.supervisor.restart(signal);
  await until('serving once it listens', () => serving === 1, 1_000);
  const looks = readFileSync(calls, 'utf8').split('\n').filter((arg) => arg && Number(arg) < 0.2).length;
  // The schedule allows 60 + 75 + 33 in 5 s (4 ms, 20 ms, then 0.1 s), plus the few of the pid's wait.
  assert.ok(looks <= 200, `${looks} looks at the socket table while the process started`);
});

test('a failing build leaves the old process running and hands over its output; a good one swaps', async (t) => {
  let failure: { code: number; output: string } | undefined;
  const s = supervised(STAY, {
    build: ['sh', '-c', 'if [ -e broken ]; then echo "./main.go:3:5: undefined: x" >&2; exit 2; fi'],
    onBuildFailed: (code, output) => (failure = { code, output }),
  });
  t.after(s.cleanUp);
  await s.supervisor.restart(signal);
  await until('first run', () => /run \d+/.test(s.output()));
  const first = readFileSync(s.pidFile, 'utf8').trim();
  spawnSync('touch', [join(s.workDir, 'broken')]);
  assert.equal(await s.supervisor.restart(signal), undefined);
  assert.deepEqual(failure, { code: 2, output: './main.go:3:5: undefined: x\n' });
  assert.ok(groupAlive(first), 'the old process still runs');
  assert.deepEqual(s.states.at(-1), { kind: 'running', pod: 'p1' });
  rmSync(join(s.workDir, 'broken'));
  assert.notEqual(await s.supervisor.restart(signal), undefined);
  await until('the old group gone', () => !groupAlive(first));
});

test('restarts asked for during one restart are served by one more, not one each', async (t) => {
  const s = supervised(STAY, { build: ['sleep', '0.3'] });
  t.after(s.cleanUp);
  await s.supervisor.restart(signal);
  const burst = await Promise.all(Array.from({ length: 10 }, () => s.supervisor.restart(signal)));
  assert.ok(new Set(burst).size <= 2, `at most two restarts: ${burst.join(', ')}`);
  await until('runs', () => (s.output().match(/run \d+/g) ?? []).length >= 2);
  assert.ok((s.output().match(/run \d+/g) ?? []).length <= 3, s.output());
});

test('requests on a long-lived channel leave nothing pending behind them (the soak\'s slow heap growth)', async (t) => {
  const s = supervised(STAY);
  t.after(s.cleanUp);
  await s.supervisor.restart(signal);
  // Every promise made during the restarts that has not settled when they are all done: each one stays in
  // memory until the channel ends, which in a day-long session is never.
  const pending = new Set<number>();
  const hook = createHook({
    init: (id, type) => type === 'PROMISE' && pending.add(id),
    promiseResolve: (id) => pending.delete(id),
  }).enable();
  try {
    for (let i = 0; i < 30; i++) await s.supervisor.restart(signal);
  } finally {
    hook.disable();
  }
  assert.ok(pending.size < 10, `${pending.size} promises made by 30 restarts are still pending`);
});

test('when the channel\'s stdin closes (nh died), the script stops the whole group', async () => {
  const workDir = mkdtempSync(join(tmpdir(), 'nh-sup-'));
  const pidFile = join(workDir, 'run.pid');
  const [cmd, ...args] = supervisorCommandLine({ marker: 'm', pidFile, workDir, port: 0, run: STAY, build: undefined, graceSeconds: 1, standby: undefined });
  const child = spawn('setsid', ['-w', cmd!, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stdin.write('start 1\n');
  await until('started', () => out.includes('@@nh-m started 1'));
  const pgid = readFileSync(pidFile, 'utf8').trim();
  assert.ok(groupAlive(pgid));
  child.stdin.end();
  await new Promise((resolve) => child.on('close', resolve));
  await until('the group gone', () => !groupAlive(pgid));
  rmSync(workDir, { recursive: true, force: true });
});

test('an old channel that ends after a newer one took over (nh reconnected) leaves the newer one\'s process running', async (t) => {
  const workDir = mkdtempSync(join(tmpdir(), 'nh-sup-'));
  const children: ReturnType<typeof spawn>[] = [];
  t.after(() => children.forEach((child) => child.stdin?.end()));
  const pidFile = join(workDir, 'run.pid');
  const script = (marker: string) => {
    const [cmd, ...args] = supervisorCommandLine({ marker, pidFile, workDir, port: 0, run: STAY, build: undefined, graceSeconds: 1, standby: undefined });
    const child = spawn('setsid', ['-w', cmd!, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
    children.push(child);
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    return { child, out: () => out };
  };
  const old = script('old');
  old.child.stdin.write('start 1\n');
  await until('the old one started', () => old.out().includes('@@nh-old started 1'));
  const first = readFileSync(pidFile, 'utf8').trim();
  // The connection was lost while the old script kept running; nh's new channel stops that process and starts again.
  const newer = script('new');
  newer.child.stdin.write('start 1\n');
  await until('the new one started', () => newer.out().includes('@@nh-new started 1 1 stopped'));
  const second = readFileSync(pidFile, 'utf8').trim();
  assert.equal(groupAlive(first), false);
  // Only now does the kubelet close the old channel's stdin.
  old.child.stdin.end();
  await new Promise((resolve) => old.child.on('close', resolve));
  assert.ok(groupAlive(second), 'the newer channel\'s process still runs');
  newer.child.stdin.end();
  await new Promise((resolve) => newer.child.on('close', resolve));
  await until('the group gone', () => !groupAlive(second));
  rmSync(workDir, { recursive: true, force: true });
});

test('a lost connection is no crash: nh reconnects, stops what still runs and starts the command again', async (t) => {
  const s = supervised(STAY);
  t.after(s.cleanUp);
  await s.supervisor.restart(signal);
  await until('first run', () => /run \d+/.test(s.output()));
  const first = readFileSync(s.pidFile, 'utf8').trim();
  // The API server goes away: the socket drops, the kubelet keeps the process (its stdin open); then it refuses twice.
  s.container.refuseNext(2);
  s.container.execs[0]!.cut(false);
  await until('running again', () => s.container.execs.length === 2 && s.states.at(-1)?.kind === 'running');
  // Through the refused attempts the state stays "reconnecting" (no flip to "starting" and back on each attempt).
  const sinceLoss = s.states.slice(s.states.findIndex((x) => x.kind === 'reconnecting')).map((x) => x.kind);
  const changes = sinceLoss.filter((kind, i) => kind !== sinceLoss[i - 1]);
  assert.equal(changes.filter((kind) => kind === 'reconnecting').length, 1, changes.join(' → '));
  assert.ok(!s.states.some((x) => x.kind === 'crashed' || x.kind === 'exited'), JSON.stringify(s.states));
  assert.deepEqual(s.notices, ['the connection to the container is back; the process still ran, without nh following its output: restarted it']);
  await until('the first group gone', () => !groupAlive(first));
});

test('on a new channel (after a lost connection) a process that listens at once is seen serving, though the old channel had numbered more processes', async (t) => {
  const port = await freePort();
  let serving = 0;
  // Perl (perl-base is essential in Debian) listens within a few ms: its start's answer and its listening arrive together.
  const listener = `my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => ${port}, Listen => 5, ReuseAddr => 1) or die "$!"; sleep 600`;
  const s = supervised(['perl', '-MIO::Socket::INET', '-e', listener], { port, onServing: () => serving++ });
  t.after(s.cleanUp);
  for (let i = 1; i <= 3; i++) {
    await s.supervisor.restart(signal);
    await until(`serving ${i}`, () => serving === i);
  }
  s.container.execs[0]!.cut(false);
  await until('serving again on the new channel', () => s.container.execs.length === 2 && serving === 4);
});

test('a connection lost with the process (the kubelet closed its stdin): started again, said so', async (t) => {
  const s = supervised(STAY);
  t.after(s.cleanUp);
  await s.supervisor.restart(signal);
  await until('first run', () => /run \d+/.test(s.output()));
  // The container stays out of reach until the old script has stopped the group and ended.
  s.container.refuseNext(Number.MAX_SAFE_INTEGER);
  const old = s.container.execs[0]!;
  old.cut(true);
  await new Promise((resolve) => (old.child.exitCode === null ? old.child.once('close', resolve) : resolve(undefined)));
  s.container.refuseNext(0);
  await until('running again', () => s.container.execs.length === 2 && s.states.at(-1)?.kind === 'running');
  assert.deepEqual(s.notices, ['the connection to the container is back; the process had stopped with it: started it again']);
});

test('a restart while the pod is not ready waits for it to be ready again, then starts the command', async (t) => {
  let ready: ((p: typeof pod) => void) | undefined;
  let current: typeof pod | undefined = undefined;
  const flaky = { namespace: 'ns', current: () => current, nextPod: () => new Promise((resolve) => (ready = resolve)) } as unknown as PodTracker;
  const s = supervised(STAY, { pods: flaky });
  t.after(s.cleanUp);
  const started = s.supervisor.restart(signal);
  await until('waiting for a pod', () => s.states.at(-1)?.kind === 'waiting' && ready !== undefined);
  current = pod;
  ready!(pod);
  assert.notEqual(await started, undefined);
  assert.equal(s.container.execs.length, 1);
});

/** A Node server on `port` that answers with `body` and prints its pid once it listens; `also`: more of its code. */
function nodeServer(workDir: string, port: number, body: string, also = ''): void {
  writeFileSync(join(workDir, 'server.js'), `${also}\nrequire('http').createServer((q, r) => r.end(${JSON.stringify(body)})).listen(${port}, '127.0.0.1', () => console.log('serving ' + ${JSON.stringify(body)} + ' pid ' + process.pid + ('NH_STANDBY_FIFO' in process.env ? ' (with the fifo in its environment)' : '')));\n`);
}

/** The standby's files beside the pid file (its pid file `.next.*`, its fifo `.go.*`, the end fifos `.end.*`), with their paths. */
function standbyFiles(pidFile: string): { pid: string[]; fifo: string[]; end: string[] } {
  const dir = pidFile.slice(0, pidFile.lastIndexOf('/'));
  const name = pidFile.slice(dir.length + 1);
  const files = readdirSync(dir);
  const matching = (infix: string) => files.filter((f) => f.startsWith(`${name}${infix}`)).map((f) => join(dir, f));
  return { pid: matching('.next.'), fifo: matching('.go.'), end: matching('.end.') };
}

/** The pid in the standby's pid file (one per script), once it has booted (the script replaces that file at each start). */
function standbyPid(pidFile: string): string | undefined {
  const [file] = standbyFiles(pidFile).pid;
  try {
    return (file && readFileSync(file, 'utf8').trim()) || undefined;
  } catch {
    return undefined;
  }
}

/**
 * A supervised server serving "one" with a standby (by default `node server.js`, whose standby is Node booted
 * ahead): once the first process serves and the standby is up.
 */
async function servingWithStandby(t: { after: (fn: () => Promise<void>) => void }, command: readonly string[] = ['node', 'server.js'], build?: readonly string[], extra: Partial<SupervisorOptions> = {}, firstServerAlso = '') {
  const port = await freePort();
  let serving = 0;
  const s = supervised(command, { port, standby: true, build, onServing: () => serving++, ...extra });
  t.after(s.cleanUp);
  nodeServer(s.workDir, port, 'one', firstServerAlso);
  await s.supervisor.restart(signal);
  await until('the first process serving and a standby booted', () => serving === 1 && s.output().includes('serving one') && standbyPid(s.pidFile) !== undefined);
  return { s, port, standby: standbyPid(s.pidFile)!, serving: () => serving };
}

test('standby: a restart starts the process booted ahead, and it runs the code as it is at the restart, not at its boot', async (t) => {
  const { s, port, standby, serving } = await servingWithStandby(t);
  const first = readFileSync(s.pidFile, 'utf8').trim();
  // Written after the standby booted: it must still serve this version.
  nodeServer(s.workDir, port, 'two');
  await s.supervisor.restart(signal);
  await until('the second version serving', () => serving() === 2 && s.output().includes('serving two'));
  // The process that serves is the standby, and the preload's fifo is not in the application's environment.
  assert.match(s.output(), new RegExp(`serving two pid ${standby}\\n`));
  assert.equal(readFileSync(s.pidFile, 'utf8').trim(), standby);
  assert.ok(!s.states.some((x) => x.kind === 'crashed' || x.kind === 'exited'), JSON.stringify(s.states));
  // Nothing but the processes' own output: no note of the shell's about the stopped process.
  assert.equal(s.output(), `serving one pid ${first}\nserving two pid ${standby}\n`);
});

test('standby: one that died is no crash; the restart starts a fresh process instead', async (t) => {
  const { s, port, standby, serving } = await servingWithStandby(t);
  process.kill(Number(standby), 'SIGKILL');
  // Dead before the start (one dying at the very moment of the start may still be taken for alive).
  await until('the standby gone', () => !processAlive(standby));
  nodeServer(s.workDir, port, 'two');
  await s.supervisor.restart(signal);
  await until('the second version serving', () => serving() === 2 && s.output().includes('serving two'));
  assert.doesNotMatch(s.output(), new RegExp(`serving two pid ${standby}\\n`));
  assert.ok(!s.states.some((x) => x.kind === 'crashed' || x.kind === 'exited'), JSON.stringify(s.states));
});

test('standby: one that dies after the start wrote its byte but before it read it is no crash either: a fresh process takes its place', async (t) => {
  // The old process takes its time to stop, so the standby can be killed between the byte and its end.
  const slowToStop = `process.on('SIGTERM', () => { console.log('stopping'); setTimeout(() => process.exit(0), 1500); });`;
  const { s, port, standby, serving } = await servingWithStandby(t, undefined, undefined, {}, slowToStop);
  nodeServer(s.workDir, port, 'two');
  const restarted = s.supervisor.restart(signal);
  await until('the old process told to stop', () => s.output().includes('stopping'));
  process.kill(Number(standby), 'SIGKILL');
  await restarted;
  await until('the second version serving', () => serving() === 2 && s.output().includes('serving two'));
  assert.doesNotMatch(s.output(), new RegExp(`serving two pid ${standby}\\n`));
  assert.ok(!s.states.some((x) => x.kind === 'crashed' || x.kind === 'exited'), JSON.stringify(s.states));
});

test('standby: stop, and a channel whose stdin closes, leave no process and no file of it behind', async (t) => {
  for (const end of ['stop', 'stdin'] as const) {
    const { s, standby } = await servingWithStandby(t);
    const running = readFileSync(s.pidFile, 'utf8').trim();
    if (end === 'stop') await s.supervisor.stop();
    else s.container.execs[0]!.child.stdin.end();
    await until(`both groups gone after ${end}`, () => !groupAlive(running) && !groupAlive(standby));
    await until(`the standby's files gone after ${end}`, () => {
      const files = standbyFiles(s.pidFile);
      return files.pid.length === 0 && files.fifo.length === 0 && files.end.length === 0;
    });
  }
});

test('standby: any other command waits forked, before its exec; a binary built after the fork is the one that runs', async (t) => {
  // `./app` is a "binary" the build writes anew each time: the standby forked before the build must exec the new one.
  const build = ['sh', '-c', 'printf "#!/bin/sh\\nexec node server.js\\n" > app.new && chmod +x app.new && mv app.new app'];
  const { s, port, standby, serving } = await servingWithStandby(t, ['./app'], build);
  nodeServer(s.workDir, port, 'two');
  await s.supervisor.restart(signal);
  await until('the second version serving', () => serving() === 2 && s.output().includes('serving two'));
  // The standby shell became the server (exec keeps the pid), and its fifo is not in the server's environment.
  assert.match(s.output(), new RegExp(`serving two pid ${standby}\\n`));
  assert.ok(!s.states.some((x) => x.kind === 'crashed' || x.kind === 'exited'), JSON.stringify(s.states));
});

function processAlive(pid: string): boolean {
  try {
    process.kill(Number(pid), 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Until the standby has come as far as its wait on the old process's end fifo: one still booting opens that fifo
 * after the old process is gone, and goes on only once the script has seen the whole old group end.
 */
async function untilWaitingOnOldEnd(standby: string): Promise<void> {
  // An fd may close between the listing and its readlink (ENOENT): it holds nothing then.
  const target = (fd: string) => {
    try {
      return readlinkSync(`/proc/${standby}/fd/${fd}`);
    } catch {
      return '';
    }
  };
  const holdsOldEnd = () => readdirSync(`/proc/${standby}/fd`).some((fd) => fd !== '4' && target(fd).includes('.end.'));
  await until('the standby waiting on the old process\'s end fifo', holdsOldEnd);
}

/** Pids a test's commands appended to `file` in the work dir, killed when it ends. */
function killListed(workDir: string, file: string): () => void {
  return () => {
    const path = join(workDir, file);
    const listed = existsSync(path) ? readFileSync(path, 'utf8') : '';
    for (const pid of listed.split(/\s+/).filter((pid) => /^[1-9][0-9]*$/.test(pid) && processAlive(pid))) process.kill(Number(pid), 'SIGKILL');
  };
}

test('standby: the new process starts at the old process\'s own end, not once the script has seen the old group end', async (t) => {
  // The old group keeps a straggler that ignores TERM and closed the end fifo (not the leader's child: the
  // leader is alone and the byte goes out before the TERM); the script waits for it until the grace is over.
  const straggler = `(sh -c 'trap "" TERM; exec 4>&-; echo $$ >> stragglers; exec sleep 60' &); exec node server.js`;
  const { s, port, standby, serving } = await servingWithStandby(t, ['sh', '-c', straggler], undefined, { graceSeconds: 60 });
  const stragglers = killListed(s.workDir, 'stragglers');
  s.killAtCleanUp('stragglers');
  await untilWaitingOnOldEnd(standby);
  nodeServer(s.workDir, port, 'two');
  const restarted = s.supervisor.restart(signal);
  await until('the second version serving', () => s.output().includes('serving two'), 1500);
  const [first] = readFileSync(join(s.workDir, 'stragglers'), 'utf8').split(/\s+/);
  assert.ok(processAlive(first!), 'the old straggler still runs');
  assert.match(s.output(), new RegExp(`serving two pid ${standby}\\n`));
  stragglers();
  await restarted;
  await until('counted as serving once the script saw the old group end', () => serving() === 2);
});

test('standby: Node booted ahead that crashes on the new code before the script has seen the old group end is one crash, not two starts', async (t) => {
  // The old process leaves a straggler in its group (reparented, so the leader has no child and the byte goes
  // out before the TERM); the new code throws while the script still waits for the straggler. Node's preload
  // took one byte of the start's line: the process did start, and its crash is reported, not run again.
  const leaveStraggler = `require('child_process').spawnSync('sh', ['-c', \`(sh -c 'trap "" TERM; exec 4>&-; echo $$ >> stragglers; exec sleep 60' &)\`], { stdio: 'ignore' });`;
  const { s, standby } = await servingWithStandby(t, undefined, undefined, { graceSeconds: 60 }, leaveStraggler);
  const stragglers = killListed(s.workDir, 'stragglers');
  s.killAtCleanUp('stragglers');
  await untilWaitingOnOldEnd(standby);
  writeFileSync(join(s.workDir, 'server.js'), `throw new Error('the new code fails');\n`);
  const restarted = s.supervisor.restart(signal);
  await until('the new code failing', () => s.output().includes('the new code fails'), 1500);
  stragglers();
  await restarted;
  await until('reported as a crash', () => s.states.some((x) => x.kind === 'crashed'));
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(s.output().split('Error: the new code fails').length - 1, 1, s.output());
});

test('standby: something outside the old group that still holds the end fifo does not hold the new process back', async (t) => {
  // A daemon the old process left in a session of its own keeps the fifo open: the script's line after the stop lets the standby go on.
  const daemon = `(setsid sh -c 'echo $$ >> daemons; exec sleep 60' &); exec node server.js`;
  const { s, port, standby, serving } = await servingWithStandby(t, ['sh', '-c', daemon]);
  s.killAtCleanUp('daemons');
  nodeServer(s.workDir, port, 'two');
  await s.supervisor.restart(signal);
  await until('the second version serving', () => serving() === 2 && s.output().includes('serving two'));
  assert.match(s.output(), new RegExp(`serving two pid ${standby}\\n`));
  assert.ok(!s.states.some((x) => x.kind === 'crashed' || x.kind === 'exited'), JSON.stringify(s.states));
});

test('standby: Node booted ahead for node itself; a held shell for anything else, and for a node that opens the inspector or watches at boot', () => {
  assert.deepEqual(standbyCommand(['node', 'server.js'], '/tmp/p.cjs'), ['node', '--require', '/tmp/p.cjs', 'server.js']);
  assert.deepEqual(standbyCommand(['/usr/local/bin/node', '-r', 'ts-node/register', 'a.ts'], '/p'), ['/usr/local/bin/node', '--require', '/p', '-r', 'ts-node/register', 'a.ts']);
  for (const run of [['node', '--inspect=0.0.0.0:9229', 'server.js'], ['node', '--watch', 'server.js'], ['npm', 'start'], ['/tmp/.nh-bin-api', '-v']]) {
    const held = standbyCommand(run, '/p');
    assert.deepEqual(held?.slice(0, 2), ['sh', '-c'], run.join(' '));
    assert.deepEqual(held?.slice(3), ['nh-standby', ...run]);
  }
  assert.equal(standbyCommand([], '/p'), undefined);
});

/**
 * A held-shell service (`sh -c 'exec node server.js'`, as a built binary would be) with the hand-off on, serving
 * its first version, once the helper is built (the first build on a machine with a cold Go cache takes a while).
 * Each process prints `init PID` before anything else, and `bye PID` when told to stop.
 */
async function servingWithHandoff(t: { after: (fn: () => Promise<void>) => void }) {
  const port = await freePort();
  let serving = 0;
  // The script builds the helper with the container's `go`: here this machine's (the cluster's build needs it too).
  const withGo = { ...process.env, PATH: `${process.env['PATH']}:/usr/local/go/bin` };
  const s = supervised(['sh', '-c', 'exec node server.js'], { port, standby: true, handoff: true, onServing: () => serving++ }, withGo);
  t.after(s.cleanUp);
  const server = (body: string, also = '') => nodeServer(s.workDir, port, body, `${LIFE_LINES}\n${also}`);
  server('one');
  await s.supervisor.restart(signal);
  await until('the first process serving and a standby booted', () => serving === 1 && standbyPid(s.pidFile) !== undefined);
  await until('the hand-off helper built', () => existsSync(handoffHelperPath()) || existsSync(`${handoffHelperPath()}.off`), 18_000);
  assert.ok(existsSync(handoffHelperPath()), 'the helper was built, and seccomp is not refused here');
  return { s, port, server, serving: () => serving };
}

const LIFE_LINES = `console.log('init ' + process.pid + (['NH_STANDBY_FIFO', 'NH_STANDBY_AFTER', 'NH_HANDOFF'].some((k) => k in process.env) ? ' (with nh variables)' : ''));
process.on('SIGTERM', () => { console.log('bye ' + process.pid); process.exit(0); });`;

function pids(output: string, word: 'init' | 'bye'): string[] {
  return [...output.matchAll(new RegExp(`^${word} (\\d+)`, 'gm'))].map((m) => m[1]!);
}

async function body(port: number): Promise<string> {
  return (await fetch(`http://127.0.0.1:${port}/`)).text();
}

test('hand-off: the new process starts while the old one serves, and the old one is stopped only at its bind; again from a helper-led group', async (t) => {
  const { s, port, server, serving } = await servingWithHandoff(t);
  const second = await freePort();
  for (const [round, version] of ['two', 'three'].entries()) {
    // A second port too: every bind that could collide goes on once the old process is gone.
    server(version, `require('http').createServer((q, r) => r.end('${version} again')).listen(${second}, '127.0.0.1');`);
    await s.supervisor.restart(signal);
    const standby = standbyPid(s.pidFile);
    await until(`${version} serving`, () => serving() === round + 2 && s.output().includes(`serving ${version}`));
    // The next restart hands off only once the next standby is there.
    await until('the next standby booted', () => ![undefined, standby].includes(standbyPid(s.pidFile)));
    const [old, fresh] = pids(s.output(), 'init').slice(round, round + 2);
    const text = s.output();
    assert.ok(text.indexOf(`init ${fresh}`) < text.indexOf(`bye ${old}`), `the new process started before the old one was told to stop:\n${text}`);
    assert.equal(await body(port), version);
    assert.equal(await body(second), `${version} again`);
  }
  assert.doesNotMatch(s.output(), /with nh variables/);
  assert.ok(!s.states.some((x) => x.kind === 'crashed' || x.kind === 'exited'), JSON.stringify(s.states));
  const running = readFileSync(s.pidFile, 'utf8').trim();
  await s.supervisor.stop();
  await until('the helper-led group gone', () => !groupAlive(running));
});

test('hand-off: a new process that ends before it binds still replaces the old one, and its exit is reported once', async (t) => {
  const { s } = await servingWithHandoff(t);
  writeFileSync(join(s.workDir, 'server.js'), `${LIFE_LINES}\nthrow new Error('the new code fails');\n`);
  await s.supervisor.restart(signal);
  await until('reported as a crash', () => s.states.some((x) => x.kind === 'crashed'));
  const [old] = pids(s.output(), 'init');
  await until('the old process stopped', () => pids(s.output(), 'bye').includes(old!));
  assert.equal(s.output().split('Error: the new code fails').length - 1, 1, s.output());
});

test('hand-off: a new process that never binds has the old one stopped anyway (after 1 s)', async (t) => {
  const { s } = await servingWithHandoff(t);
  writeFileSync(join(s.workDir, 'server.js'), `${LIFE_LINES}\nsetInterval(() => undefined, 1000);\n`);
  await s.supervisor.restart(signal);
  const [old, fresh] = pids(s.output(), 'init');
  await until('the old process stopped', () => pids(s.output(), 'bye').includes(old!), 1_000);
  const text = s.output();
  assert.ok(text.indexOf(`init ${fresh}`) < text.indexOf(`bye ${old}`), text);
  assert.ok(!s.states.some((x) => x.kind === 'crashed' || x.kind === 'exited'), JSON.stringify(s.states));
});

test('hand-off: a new process that binds only after the old one was stopped (after 1 s) still gets its port', async (t) => {
  const { s, port, serving } = await servingWithHandoff(t);
  writeFileSync(join(s.workDir, 'server.js'), `${LIFE_LINES}\nsetTimeout(() => require('http').createServer((q, r) => r.end('late')).listen(${port}, '127.0.0.1', () => console.log('serving late')), 1500);\n`);
  await s.supervisor.restart(signal);
  await until('the late one serving', () => serving() === 2 && s.output().includes('serving late'), 1_000);
  assert.equal(await body(port), 'late');
});

test('hand-off: where seccomp is refused the helper steps aside for good, and restarts stop the old process first', async (t) => {
  await (await servingWithHandoff(t)).s.supervisor.stop();
  const helper = handoffHelperPath();
  // This "container" runs everything under a filter that already has a listener (a copy of the helper, wrapped
  // around the exec's first setsid), so the helper's own filter is refused (EBUSY), as a profile without
  // seccomp(2) refuses it.
  const bin = mkdtempSync(join(tmpdir(), 'nh-seccomp-taken-'));
  const real = spawnSync('sh', ['-c', 'command -v setsid'], { encoding: 'utf8' }).stdout.trim();
  copyFileSync(helper, join(bin, 'filter'));
  writeFileSync(join(bin, 'setsid'), `#!/bin/sh\n[ -n "$UNDER_FILTER" ] && exec ${real} "$@"\nexport UNDER_FILTER=1\nexec ${join(bin, 'filter')} 0 '' ${real} "$@"\n`, { mode: 0o755 });
  t.after(() => {
    rmSync(bin, { recursive: true, force: true });
    // Put back for the next tests and runs: the helper renamed itself.
    if (existsSync(`${helper}.off`)) renameSync(`${helper}.off`, helper);
  });
  const port = await freePort();
  let serving = 0;
  const s = supervised(['sh', '-c', 'exec node server.js'], { port, standby: true, handoff: true, onServing: () => serving++ }, { ...process.env, PATH: `${bin}:${process.env['PATH']}:/usr/local/go/bin` });
  t.after(s.cleanUp);
  nodeServer(s.workDir, port, 'one', LIFE_LINES);
  await s.supervisor.restart(signal);
  await until('serving one, a standby booted', () => serving === 1 && standbyPid(s.pidFile) !== undefined);
  for (const [round, version] of ['two', 'three'].entries()) {
    const standby = standbyPid(s.pidFile);
    nodeServer(s.workDir, port, version, LIFE_LINES);
    await s.supervisor.restart(signal);
    await until(`${version} serving`, () => serving === round + 2 && s.output().includes(`serving ${version}`));
    await until('the next standby booted', () => ![undefined, standby].includes(standbyPid(s.pidFile)));
    const [old, fresh] = pids(s.output(), 'init').slice(round, round + 2);
    const text = s.output();
    assert.ok(text.indexOf(`bye ${old}`) < text.indexOf(`init ${fresh}`), `the old process was stopped first:\n${text}`);
  }
  assert.ok(existsSync(`${helper}.off`) && !existsSync(helper), 'the helper stepped aside');
  assert.equal(s.output().split('nh-handoff: seccomp').length - 1, 1, s.output());
  assert.ok(!s.states.some((x) => x.kind === 'crashed' || x.kind === 'exited'), JSON.stringify(s.states));
});

test('the supervisor\'s exec URL stays under 16 KB (Node\'s default header limit, which a proxy in front of the API server enforced with 431)', () => {
  const bin = ['/tmp/.nh-bin-inventory'];
  for (const run of [bin, ['node', 'server.js']]) {
    const command = supervisorCommandLine({
      marker: 'a1b2c3d4e5f6', pidFile: pidFileOf('booking-inventory'), workDir: '/src/app', port: 8080, run, build: ['go', 'build', '-o', bin[0]!, '.'],
      graceSeconds: 1, standby: standbyCommand(run, '/tmp/p.cjs'), handoff: true,
    });
    const url = execUrl('https://127.0.0.1:6443', { namespace: 'e2e-faults-watches-b58cf7', pod: 'booking-inventory-76f495d56c-5xb5x', container: 'inventory' }, command, true);
    assert.ok(url.length < 16 * 1024 - 1024, `${run.join(' ')}: ${url.length} bytes`);
  }
});
