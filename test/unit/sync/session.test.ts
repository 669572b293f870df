// SyncSession with an in-memory container (a fake agent that extracts nh's tar archives) and a watcher
// driven by hand: retries, pod loss and return, and that no edit is lost. Local files live in a temp dir.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import type { SyncAgent } from '../../../src/sync/agent.js';
import { openForReading, type OpenFile } from '../../../src/sync/local-tree.js';
import { SyncSession, type SyncEvent, type SyncSessionOptions } from '../../../src/sync/session.js';
import { tarNumber, tarOf } from '../../support/tar.js';
import type { TreeEntry } from '../../../src/sync/tree.js';
import type { WatchTree } from '../../../src/sync/watcher.js';

interface Stored {
  readonly entry: TreeEntry;
  readonly content: Buffer;
}

/** A container in memory: `put` parses the ustar/PAX archive the session sends. */
class FakeContainer implements SyncAgent {
  readonly files = new Map<string, Stored>();
  failNextPut = false;
  puts = 0;
  /** Archive bytes received, all puts together. */
  received = 0;
  private loseIt: (error: Error) => void = () => undefined;
  readonly lost = new Promise<Error>((resolve) => (this.loseIt = resolve));

  lose(): void {
    this.loseIt(new Error('pod deleted'));
  }

  async list(): Promise<TreeEntry[]> {
    return [...this.files.values()].map((f) => f.entry);
  }

  async hash(paths: readonly string[]): Promise<Map<string, string>> {
    return new Map(paths.filter((p) => this.files.has(p)).map((p) => [p, createHash('md5').update(this.files.get(p)!.content).digest('hex')]));
  }

  async remove(paths: readonly string[]): Promise<void> {
    for (const path of paths) for (const key of [...this.files.keys()]) if (key === path || key.startsWith(`${path}/`)) this.files.delete(key);
  }

  async put(bytes: number, archive: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of archive) chunks.push(Buffer.from(chunk));
    const data = Buffer.concat(chunks);
    assert.equal(data.length, bytes, 'the archive has exactly the announced size');
    this.received += data.length;
    if (this.failNextPut) {
      this.failNextPut = false;
      throw new Error('tar: disk full');
    }
    this.puts++;
    let paxPath: string | undefined;
    for (let at = 0; at + 512 <= data.length; ) {
      const header = data.subarray(at, at + 512);
      if (header.every((b) => b === 0)) break;
      const field = (offset: number, length: number) => header.subarray(offset, offset + length).toString('utf8').replace(/\0.*$/s, '');
      const size = tarNumber(header.subarray(124, 136));
      const type = field(156, 1);
      const body = data.subarray(at + 512, at + 512 + size);
      at += 512 + Math.ceil(size / 512) * 512;
      if (type === 'x') {
        paxPath = /\d+ path=(.*)\n/.exec(body.toString('utf8'))?.[1];
        continue;
      }
      const prefix = field(345, 155);
      const path = (paxPath ?? (prefix ? `${prefix}/${field(0, 100)}` : field(0, 100))).replace(/\/$/, '');
      paxPath = undefined;
      const kind = type === '5' ? 'dir' : type === '2' ? 'link' : 'file';
      const entry: TreeEntry = { path, kind, mode: parseInt(field(100, 8), 8), size, mtimeMs: parseInt(field(136, 12), 8) * 1000, ...(kind === 'link' ? { target: field(157, 100) } : {}) };
      this.files.set(path, { entry, content: Buffer.from(body) });
    }
  }

  async close(): Promise<void> {}

  text(path: string): string | undefined {
    return this.files.get(path)?.content.toString();
  }
}

function manualWatcher(): { watch: WatchTree; change: (path: string) => void } {
  let onChange: (path: string) => void = () => undefined;
  return {
    watch: async (options) => {
      onChange = options.onChange;
      return { rescan: async () => undefined, close: async () => undefined };
    },
    change: (path) => onChange(path),
  };
}

/** A session on root that syncs everything, with a watcher driven by hand and its events collected. */
function sessionOn(root: string, options: Pick<SyncSessionOptions, 'connect'> & Partial<SyncSessionOptions>) {
  const watcher = manualWatcher();
  const events: SyncEvent[] = [];
  const session = new SyncSession({
    service: 'api',
    localRoot: root,
    settings: { mode: 'pattern', filePatterns: ['.'], ignorePatterns: [] },
    watch: watcher.watch,
    onEvent: (e) => events.push(e),
    backoff: { initialMs: 5, maxMs: 20 },
    ...options,
  });
  return { session, watcher, events };
}

async function until(what: string, condition: () => boolean): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`never happened: ${what}`);
}

test('live session: initial delta, a change, a failed batch retried, a lost pod refilled with edits made meanwhile', async () => {
  const root = mkdtempSync(join(tmpdir(), 'nh-session-'));
  try {
    writeFileSync(join(root, 'a.txt'), 'first');
    const containers = [new FakeContainer(), new FakeContainer()];
    let connects = 0;
    const { session, watcher, events } = sessionOn(root, {
      // The second pod is not ready at once: two failed connects first.
      connect: async () => {
        connects++;
        if (connects === 1) return containers[0]!;
        if (connects <= 3) throw new Error('no ready dev pod');
        return containers[1]!;
      },
    });
    const abort = new AbortController();
    const running = session.run(abort.signal);
    const [first, second] = containers as [FakeContainer, FakeContainer];

    await until('the initial delta', () => first.text('a.txt') === 'first');
    writeFileSync(join(root, 'a.txt'), 'second');
    watcher.change('a.txt');
    await until('the live batch', () => first.text('a.txt') === 'second');

    first.failNextPut = true;
    writeFileSync(join(root, 'b.txt'), 'retried');
    watcher.change('b.txt');
    await until('the retry', () => first.text('b.txt') === 'retried');
    assert.ok(events.some((e) => e.type === 'error' && /disk full/.test(e.error.message) && e.retryInMs > 0));

    first.lose();
    await until('pod-lost', () => events.some((e) => e.type === 'pod-lost'));
    // Edited while no pod is there, and the watcher's event for it came and went.
    writeFileSync(join(root, 'a.txt'), 'edited while gone');
    watcher.change('a.txt');
    await until('pod-back and the refill', () => second.text('a.txt') === 'edited while gone' && second.text('b.txt') === 'retried');
    assert.equal(events.filter((e) => e.type === 'pod-lost').length, 1, 'reported once, not per failed connect');
    assert.ok(events.some((e) => e.type === 'pod-back'));

    abort.abort();
    await running;
    const batches = events.filter((e): e is Extract<SyncEvent, { type: 'batch' }> => e.type === 'batch');
    assert.deepEqual(batches.map((b) => b.initial), [true, false, false, true]);
    assert.ok(batches.every((b) => b.writtenAt >= b.savedAt));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('a missing sync root stops the sync instead of emptying the container', async () => {
  const container = new FakeContainer();
  await container.put(...tarOf({ 'keep.txt': 'precious' }));
  const session = new SyncSession({
    service: 'api',
    localRoot: join(tmpdir(), 'nh-no-such-root-' + process.pid),
    settings: { mode: 'pattern', filePatterns: ['.'], ignorePatterns: [] },
    connect: async () => container,
  });
  await assert.rejects(session.syncOnce(AbortSignal.timeout(5_000)), (e: Error & { code?: string }) => e.code === 'NH_SYNC_FAILED');
  assert.equal(container.text('keep.txt'), 'precious');
});

/** Opens files as the real opener does, except those refused: EACCES, as open(2) says it to a user without read permission. */
function refusingOpener(root: string): { open: OpenFile; refused: Set<string> } {
  const refused = new Set<string>();
  const open: OpenFile = (file) => {
    if (refused.has(relative(root, file))) throw Object.assign(new Error(`EACCES: permission denied, open '${file}'`), { code: 'EACCES', errno: -13, syscall: 'open', path: file });
    return openForReading(file);
  };
  return { open, refused };
}

test('an unreadable file is reported, never written (the container keeps its copy), and sent once it can be read', async () => {
  const root = mkdtempSync(join(tmpdir(), 'nh-session-'));
  try {
    writeFileSync(join(root, 'secret.txt'), 'new secret');
    writeFileSync(join(root, 'big.bin'), 'b'.repeat(300 * 1024)); // above the small-file size: streamed
    writeFileSync(join(root, 'ok.txt'), 'fine');
    const container = new FakeContainer();
    await container.put(...tarOf({ 'secret.txt': 'old copy' }));
    const before = container.files.get('secret.txt')!.entry;
    const received = container.received;
    const { open, refused } = refusingOpener(root);
    refused.add('secret.txt').add('big.bin');
    const { session, watcher, events } = sessionOn(root, { openFile: open, connect: async () => container });
    const abort = new AbortController();
    const running = session.run(abort.signal);
    const unreadable = () => events.filter((e): e is Extract<SyncEvent, { type: 'unreadable' }> => e.type === 'unreadable');

    await until('the initial delta', () => container.text('ok.txt') === 'fine');
    assert.equal(container.text('secret.txt'), 'old copy', 'not overwritten, not truncated');
    assert.deepEqual(container.files.get('secret.txt')!.entry, before, 'its size and mtime are untouched too');
    assert.equal(container.files.has('big.bin'), false, 'never created');
    assert.ok(container.received - received < 300 * 1024, 'the unreadable large file costs no padding');
    assert.deepEqual(unreadable().map((e) => e.path).sort(), ['big.bin', 'secret.txt']);
    for (const event of unreadable()) {
      assert.equal(event.error.code, 'NH_SYNC_UNREADABLE');
      assert.match(event.error.message, new RegExp(`cannot read ${event.path.replace('.', '\\.')} \\(permission denied\\)`));
      assert.ok(event.error.hint);
    }
    const batch = events.find((e): e is Extract<SyncEvent, { type: 'batch' }> => e.type === 'batch')!;
    assert.equal(batch.written, 1, 'only ok.txt counts as written');

    // Another change: the unreadable files are tried again with it, still refused, not reported twice.
    writeFileSync(join(root, 'ok.txt'), 'fine again');
    watcher.change('ok.txt');
    await until('the live batch', () => container.text('ok.txt') === 'fine again');
    assert.equal(container.text('secret.txt'), 'old copy');
    assert.equal(unreadable().length, 2);

    // chmod makes them readable and raises an event for one of them; both are sent.
    refused.clear();
    watcher.change('secret.txt');
    await until('the retry', () => container.text('secret.txt') === 'new secret' && container.text('big.bin')?.length === 300 * 1024);

    // Unreadable again after it was sent: reported again.
    refused.add('secret.txt');
    writeFileSync(join(root, 'secret.txt'), 'third');
    watcher.change('secret.txt');
    await until('the second report', () => unreadable().length === 3);
    assert.equal(container.text('secret.txt'), 'new secret');

    abort.abort();
    await running;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('a large file whose read fails midway is reported, and the next delta hashes its copy instead of trusting size and mtime', async () => {
  const root = mkdtempSync(join(tmpdir(), 'nh-session-'));
  try {
    const content = 'n'.repeat(300 * 1024); // above the small-file size: its header goes out before it is read
    writeFileSync(join(root, 'big.bin'), content);
    let opens = 0;
    // The first open (the check before the put) reads; the second gives a descriptor that cannot be read (EBADF).
    const open: OpenFile = (file) => (relative(root, file) === 'big.bin' && ++opens === 2 ? openSync(file, 'a') : openForReading(file));
    const first = new FakeContainer();
    const second = new FakeContainer();
    let connects = 0;
    const { session, events } = sessionOn(root, { openFile: open, connect: async () => (++connects === 1 ? first : second) });
    const abort = new AbortController();
    const running = session.run(abort.signal);
    await until('the damaged copy', () => first.files.has('big.bin'));
    assert.ok(events.some((e) => e.type === 'unreadable' && e.path === 'big.bin' && !e.error.gone));
    assert.notEqual(first.text('big.bin'), content);
    // The same workDir seen again (the agent reconnects): the damaged copy has the local size and mtime.
    for (const [path, stored] of first.files) second.files.set(path, stored);
    first.lose();
    await until('the repair', () => second.text('big.bin') === content);
    abort.abort();
    await running;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
