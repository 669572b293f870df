// The dev loop with a fake pod tracker, sync and container (no cluster): what it does around a lost connection.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ServiceConfig } from '../../../src/config/model.js';
import { runDevLoop, type DevLoopControl, type DevLoopEvent } from '../../../src/devloop/dev-loop.js';
import { ExecError } from '../../../src/kube/exec.js';
import type { PodTracker } from '../../../src/kube/pod-tracker.js';
import type { SyncEvent } from '../../../src/sync/session.js';
import { localContainer } from './local-container.js';

const pod = { name: 'p1', uid: 'u1' };
const pods = {
  namespace: 'ns',
  current: () => pod,
  onChange: () => () => undefined,
  nextPod: async () => pod,
  run: (signal: AbortSignal) => new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve())),
} as unknown as PodTracker;
const config = {
  name: 'api',
  dependsOn: [],
  install: { containers: [] },
  containers: [{ name: 'c', dev: { workDir: '/tmp', hotReload: true, command: { run: ['sh', '-c', 'echo "run $$"; exec sleep 30'] }, portForwards: [], sync: { localRoot: '/l' } } }],
} as unknown as ServiceConfig;

/** Waits up to 10 s: these tests check what happens, not how fast (a reconnect waits up to 1 s, and CI runs them
 * beside the component-fault tests, where 2 s was once not enough). */
async function until(what: string, holds: () => boolean): Promise<void> {
  for (const deadline = Date.now() + 10_000; !holds() && Date.now() < deadline;) await new Promise((r) => setTimeout(r, 5));
  assert.ok(holds(), what);
}

test('after the process was started again on a lost connection, the next synced change reloads it', async () => {
  const container = localContainer();
  let output = '';
  const runs = () => (output.match(/run \d+/g) ?? []).length;
  let emit: ((event: SyncEvent) => void) | undefined;
  const events: DevLoopEvent[] = [];
  const stop = new AbortController();
  const batch = (initial: boolean): SyncEvent => ({ type: 'batch', service: 'api', initial, written: 1, deleted: 0, bytes: 1, savedAt: 0, writtenAt: 0 });
  const loop = runDevLoop([{ config, pods, sync: async (onEvent, signal) => {
    emit = onEvent;
    await new Promise((resolve) => signal.addEventListener('abort', resolve));
  } }], { endpoint: { server: 'https://x', applyToHTTPSOptions: async () => undefined }, debug: false, signal: stop.signal, onEvent: (e) => {
    events.push(e);
    if (e.type === 'output') output += `${e.line}\n`;
  }, openExec: container.exec });
  try {
    await until('the sync started', () => emit !== undefined);
    const sync = emit!;
    sync(batch(true));
    await until('first run', () => runs() === 1);
    // The API server goes away: the process's exec and the sync agent are cut together.
    const cut = new ExecError('exec in ns/p1 ended without an exit status (socket closed, code 1006)', 'NH_EXEC_LOST');
    sync({ type: 'pod-lost', service: 'api', error: cut });
    container.execs[0]!.cut(true);
    await until('started again after the reconnect', () => runs() === 2);
    await new Promise((r) => setTimeout(r, 20));
    // An edit after the recovery reaches the process.
    sync({ type: 'pod-back', service: 'api' });
    sync(batch(false));
    await until('reloaded for the edit', () => runs() === 3);
  } finally {
    stop.abort();
    await loop;
    container.cleanUp();
  }
  assert.ok(!events.some((e) => e.type === 'status' && e.services.some((s) => s.process.kind === 'crashed')), JSON.stringify(events.map((e) => (e.type === 'status' ? e.services[0]!.process : e))));
});

test('a service joins the running loop, leaves it (its process stopped, its sync ended) and joins again under its debug command', async () => {
  const container = localContainer();
  const events: DevLoopEvent[] = [];
  const output = () => events.filter((e) => e.type === 'output').map((e) => e.type === 'output' && e.line);
  const syncs = new Map<string, { emit: (event: SyncEvent) => void; ended: boolean }>();
  const serviceNamed = (name: string) => ({
    config: { ...config, name, containers: [{ ...config.containers[0]!, dev: { ...config.containers[0]!.dev, command: { run: ['sh', '-c', `echo "run ${name}"; exec sleep 30`], debug: ['sh', '-c', `echo "debug ${name}"; exec sleep 30`] } } }] } as unknown as ServiceConfig,
    pods,
    sync: async (onEvent: (event: SyncEvent) => void, signal: AbortSignal) => {
      const entry = { emit: onEvent, ended: false };
      syncs.set(name, entry);
      await new Promise((resolve) => signal.addEventListener('abort', resolve));
      entry.ended = true;
    },
  });
  const initial = (service: string): SyncEvent => ({ type: 'batch', service, initial: true, written: 1, deleted: 0, bytes: 1, savedAt: 0, writtenAt: 0 });
  const stop = new AbortController();
  let control: DevLoopControl | undefined;
  const loop = runDevLoop([serviceNamed('loop-api')], {
    endpoint: { server: 'https://x', applyToHTTPSOptions: async () => undefined }, debug: false, signal: stop.signal,
    onEvent: (e) => events.push(e), openExec: container.exec, onControl: (c) => (control = c),
  });
  const lastStatus = () => events.filter((e) => e.type === 'status').at(-1);
  try {
    await until('the loop runs', () => control !== undefined && syncs.has('loop-api'));
    syncs.get('loop-api')!.emit(initial('loop-api'));
    await until('loop-api runs', () => output().includes('run loop-api'));
    await control!.add(serviceNamed('loop-web'), false);
    assert.ok(control!.has('loop-web'));
    syncs.get('loop-web')!.emit(initial('loop-web'));
    await until('loop-web runs', () => output().includes('run loop-web'));
    const status = lastStatus();
    assert.deepEqual(status?.type === 'status' && status.services.map((s) => s.name), ['loop-api', 'loop-web']);

    await control!.remove('loop-web');
    assert.equal(control!.has('loop-web'), false);
    assert.equal(syncs.get('loop-web')!.ended, true, 'its sync ended');
    assert.ok(events.some((e) => e.type === 'process' && e.service === 'loop-web' && e.process.kind === 'stopped'), 'its process was stopped');
    const after = lastStatus();
    assert.deepEqual(after?.type === 'status' && after.services.map((s) => s.name), ['loop-api']);
    assert.equal(syncs.get('loop-api')!.ended, false, 'the other service runs on');

    await control!.add(serviceNamed('loop-web'), true);
    syncs.get('loop-web')!.emit(initial('loop-web'));
    await until('loop-web runs its debug command', () => output().includes('debug loop-web'));
    await assert.rejects(control!.add(serviceNamed('loop-web'), false), /already runs in this session/);
  } finally {
    stop.abort();
    await loop;
    container.cleanUp();
  }
});

test('an outage of a moment (a watch cut and resumed at once) ends without a line; a longer one says how long it waited', async () => {
  let clock = 0;
  let emit: ((event: SyncEvent) => void) | undefined;
  const notices: string[] = [];
  const stop = new AbortController();
  const loop = runDevLoop([{ config, pods, sync: async (onEvent, signal) => {
    emit = onEvent;
    await new Promise((resolve) => signal.addEventListener('abort', resolve));
  } }], { endpoint: { server: 'https://x', applyToHTTPSOptions: async () => undefined }, debug: false, signal: stop.signal, now: () => clock, onEvent: (e) => {
    if (e.type === 'notice') notices.push(e.message);
  } });
  try {
    await until('the sync started', () => emit !== undefined);
    const cut = new ExecError('exec in ns/p1: read ECONNRESET', 'NH_EXEC_LOST', Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }));
    for (const lasted of [100, 900, 2_500]) {
      emit!({ type: 'pod-lost', service: 'api', error: cut });
      clock += lasted;
      emit!({ type: 'pod-back', service: 'api' });
    }
  } finally {
    stop.abort();
    await loop;
  }
  assert.deepEqual(notices.filter((m) => /answers again/.test(m)), ['the API server answers again (waited 2.5 s)']);
});
