/**
 * One service container's sync: an initial delta, then live batches from the watcher, across pod losses.
 * AbortSignal-driven, reporting through an event callback; it runs beside listr2, never inside it.
 *
 * No edit is lost: a batch that fails is put back; when the pod is lost, every change meanwhile is
 * covered by the full delta that runs against the next pod (which also refills a replaced, empty workDir).
 */
import type { SyncAgent } from './agent.js';
import { PendingChanges, DEFAULT_BATCH_TIMING, type BatchTiming } from './batch.js';
import { localArchive, type UnreadableFileError } from './local-archive.js';
import { hashLocalFiles, openForReading, scanLocalTree, statEntry, type LocalScan, type OpenFile, type Unsupported } from './local-tree.js';
import { pathProblem, isWithin } from './paths.js';
import { contentChecks, planLiveBatch, planSync, type Difference, type SyncPlan } from './plan.js';
import { SyncRules, type RuleSettings } from './rules.js';
import { treeOf, type EntryKind, type TreeEntry } from './tree.js';
import { watchTree, type WatchTree } from './watcher.js';

export type SyncEvent =
  | { readonly type: 'ready'; readonly service: string; readonly watcherReadyMs: number }
  | {
      readonly type: 'batch';
      readonly service: string;
      readonly initial: boolean;
      /** Entries written (files, directories, links) and paths deleted. */
      readonly written: number;
      readonly deleted: number;
      readonly bytes: number;
      /** First change of the batch seen (live) or start of the delta (initial), and when the container had it. */
      readonly savedAt: number;
      readonly writtenAt: number;
    }
  | { readonly type: 'skipped'; readonly service: string; readonly path: string; readonly reason: string }
  /** A file nh cannot read: not written in the container; tried again with each batch and delta until sent. */
  | { readonly type: 'unreadable'; readonly service: string; readonly path: string; readonly error: UnreadableFileError }
  | { readonly type: 'error'; readonly service: string; readonly error: Error; readonly retryInMs: number }
  | { readonly type: 'pod-lost'; readonly service: string; readonly error: Error }
  /** Another failed try to reach the container after pod-lost (which said it once): what it waits for now. */
  | { readonly type: 'reconnect-failed'; readonly service: string; readonly error: Error }
  | { readonly type: 'pod-back'; readonly service: string };

export interface SyncSessionOptions {
  readonly service: string;
  readonly localRoot: string;
  readonly settings: RuleSettings;
  /** Finds the service's dev pod and starts an agent in its workDir; rejects while there is none. */
  readonly connect: (signal: AbortSignal) => Promise<SyncAgent>;
  readonly onEvent?: (event: SyncEvent) => void;
  readonly watch?: WatchTree;
  /** Opens local files for reading (default: read-only, never through a symlink). */
  readonly openFile?: OpenFile;
  readonly now?: () => number;
  /** Files above this size are reported, not sent (default 1 GiB). */
  readonly maxFileBytes?: number;
  readonly timing?: BatchTiming;
  /** Waits between reconnects and retries: doubling from initial up to max. */
  readonly backoff?: { readonly initialMs: number; readonly maxMs: number };
}

export interface CheckResult {
  readonly differences: readonly Difference[];
  readonly tooLarge: readonly TreeEntry[];
  readonly unsupported: readonly Unsupported[];
}

export const DEFAULT_MAX_FILE_BYTES = 1024 ** 3;

export class SyncSession {
  /** The label events carry: the service, or service/container when it has several. */
  readonly service: string;
  private rules: SyncRules;
  /** Kinds of the synced paths in the container, as nh last saw or wrote them. */
  private known = new Map<string, EntryKind>();
  private readonly reported = new Set<string>();
  /** Files nh could not read when it last tried to send them. */
  private readonly unreadable = new Set<string>();
  private readonly now: () => number;
  private readonly maxFileBytes: number;
  private readonly openFile: OpenFile;

  constructor(private readonly options: SyncSessionOptions) {
    this.service = options.service;
    this.rules = SyncRules.compile(options.settings);
    this.now = options.now ?? Date.now;
    this.maxFileBytes = options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
    this.openFile = options.openFile ?? openForReading;
  }

  /** One initial delta against the current pod. */
  async syncOnce(signal: AbortSignal): Promise<SyncPlan> {
    // Nothing watches here, so the local walk may overlap the exec handshake.
    const scanning = this.scan();
    scanning.catch(() => undefined);
    const agent = await this.options.connect(signal);
    try {
      return await this.syncAll(agent, scanning);
    } finally {
      await agent.close();
    }
  }

  /** Compares both trees by hash without changing anything. */
  async check(signal: AbortSignal): Promise<CheckResult> {
    const agent = await this.options.connect(signal);
    try {
      const { plan, unsupported } = await this.compare(agent, false);
      return { differences: plan.differences, tooLarge: plan.tooLarge, unsupported };
    } finally {
      await agent.close();
    }
  }

  /** Initial delta, then live sync until the signal aborts; survives pod replacements. */
  async run(signal: AbortSignal): Promise<void> {
    const pending = new PendingChanges();
    const timing = this.options.timing ?? DEFAULT_BATCH_TIMING;
    let wake: () => void = () => undefined;
    let fullSyncNeeded = true;
    const watchStart = this.now();
    const watcher = await (this.options.watch ?? watchTree)({
      root: this.options.localRoot,
      isIgnored: (path, isDir) => this.rules.isIgnored(path, isDir),
      onChange: (path) => {
        pending.add(path, this.now());
        // A changed .gitignore changes what is synced: compare the whole tree again.
        if (this.rules.usesGitignore && (path === '.gitignore' || path.endsWith('/.gitignore'))) fullSyncNeeded = true;
        wake();
      },
      onError: (error) => this.emit({ type: 'error', service: this.options.service, error, retryInMs: 0 }),
    });
    this.emit({ type: 'ready', service: this.options.service, watcherReadyMs: this.now() - watchStart });

    // Capped low: once the cluster is back, the next try comes within a second, however long it was away.
    const backoff = this.options.backoff ?? { initialMs: 250, maxMs: 1_000 };
    let delay = backoff.initialMs;
    let agent: SyncAgent | undefined;
    let agentLost = false;
    let podLost = false;
    const sleep = (ms: number) => abortableSleep(ms, signal);
    try {
      while (!signal.aborted) {
        if (!agent) {
          try {
            agent = await this.options.connect(signal);
          } catch (error) {
            if (signal.aborted) break;
            this.emit({ type: podLost ? 'reconnect-failed' : 'pod-lost', service: this.options.service, error: asError(error) });
            podLost = true;
            await sleep(delay);
            delay = Math.min(delay * 2, backoff.maxMs);
            continue;
          }
          agentLost = false;
          const current = agent;
          void current.lost.then(() => {
            if (agent === current) agentLost = true;
            wake();
          });
          if (podLost) this.emit({ type: 'pod-back', service: this.options.service });
          podLost = false;
          fullSyncNeeded = true;
        }
        const taken = fullSyncNeeded ? undefined : await this.nextBatch(pending, timing, signal, () => agentLost, (w) => (wake = w));
        if (signal.aborted) break;
        try {
          if (fullSyncNeeded) {
            // Changes from here on are seen by this delta or marked again by the watcher.
            fullSyncNeeded = false;
            pending.clear();
            await this.syncAll(agent);
            // The .gitignore files read by this delta may ignore directories, or stop ignoring them.
            if (this.rules.usesGitignore) await watcher.rescan();
          } else if (taken && !agentLost) {
            await this.sendBatch(agent, taken.paths, taken.firstAt);
          } else if (taken) {
            pending.restore(taken.paths, taken.firstAt, this.now());
          }
          delay = backoff.initialMs;
        } catch (error) {
          if (taken) pending.restore(taken.paths, taken.firstAt, this.now());
          else fullSyncNeeded = true;
          // A socket that died makes writes fail just before its close arrives.
          await Promise.race([agent.lost, sleep(200)]);
          if (!agentLost && !signal.aborted) {
            this.emit({ type: 'error', service: this.options.service, error: asError(error), retryInMs: delay });
            await sleep(delay);
            delay = Math.min(delay * 2, backoff.maxMs);
          }
        }
        if (agentLost) {
          const reason = await agent.lost;
          if (!signal.aborted) this.emit({ type: 'pod-lost', service: this.options.service, error: reason });
          podLost = true;
          agent = undefined;
        }
      }
    } finally {
      await watcher.close();
      await agent?.close();
    }
  }

  /** Waits until the pending batch is due (or the agent is lost, or the signal aborts) and takes it. */
  private async nextBatch(
    pending: PendingChanges,
    timing: BatchTiming,
    signal: AbortSignal,
    isLost: () => boolean,
    setWake: (wake: () => void) => void,
  ): Promise<{ paths: string[]; firstAt: number } | undefined> {
    for (;;) {
      if (signal.aborted || isLost()) return undefined;
      const due = pending.dueAt(timing);
      if (due !== undefined && due <= this.now()) return pending.take();
      await new Promise<void>((resolve) => {
        const timer = due === undefined ? undefined : setTimeout(() => done(), due - this.now());
        const done = () => {
          if (timer) clearTimeout(timer);
          signal.removeEventListener('abort', done);
          resolve();
        };
        // A new event may make the batch due later (quiet spell) but never earlier than the max delay.
        setWake(due === undefined ? done : () => undefined);
        signal.addEventListener('abort', done, { once: true });
      });
    }
  }

  private scan(): Promise<LocalScan> {
    return scanLocalTree(this.options.localRoot, SyncRules.compile(this.options.settings));
  }

  private async compare(agent: SyncAgent, trustMtime: boolean, scanning = this.scan()): Promise<{ plan: SyncPlan; unsupported: readonly Unsupported[] }> {
    const [scan, remoteEntries] = await Promise.all([scanning, agent.list(this.rules.prunableNames())]);
    this.rules = scan.rules;
    const remote = treeOf(remoteEntries);
    const checks = contentChecks(scan.tree, remote, trustMtime, this.unreadable);
    const [local, remoteHashes] = await Promise.all([hashLocalFiles(this.options.localRoot, checks.hash, this.openFile), agent.hash(checks.hash)]);
    const plan = planSync(scan.tree, remote, { local, remote: remoteHashes, sameByStat: checks.sameByStat }, this.rules, this.maxFileBytes);
    this.known = new Map([...scan.tree.values()].map((e) => [e.path, e.kind]));
    for (const entry of remoteEntries) if (!this.known.has(entry.path) && this.rules.selects(entry.path, entry.kind === 'dir')) this.known.set(entry.path, entry.kind);
    return { plan, unsupported: scan.unsupported };
  }

  private async syncAll(agent: SyncAgent, scanning?: Promise<LocalScan>): Promise<SyncPlan> {
    const startedAt = this.now();
    const { plan, unsupported } = await this.compare(agent, true, scanning);
    for (const { path, reason } of unsupported) this.skip(path, reason);
    for (const entry of plan.tooLarge) this.skip(entry.path, tooLargeReason(entry.size, this.maxFileBytes));
    const written = await this.apply(agent, plan.deletes, plan.puts);
    this.emit({ type: 'batch', service: this.options.service, initial: true, written: written.length, deleted: plan.deletes.length, bytes: fileBytes(written), savedAt: startedAt, writtenAt: this.now() });
    return plan;
  }

  private async sendBatch(agent: SyncAgent, changed: readonly string[], firstAt: number): Promise<void> {
    const changes = new Map<string, TreeEntry | undefined>();
    // Unreadable files are tried again with every batch: a chmod raises an event for the file, but a change
    // elsewhere (its directory's mode, an ACL, the owner) may not.
    for (const path of new Set([...changed, ...this.unreadable])) {
      if (pathProblem(path)) continue;
      // A path inside an ignored directory never reaches here (not watched); the rest is judged by the plan.
      changes.set(path, await statEntry(this.options.localRoot, path));
    }
    // A directory that is new in the container: files created in it before the watcher watched it
    // raised no event, so its contents are read here.
    for (const [path, entry] of [...changes]) {
      if (entry?.kind !== 'dir' || this.known.get(path) === 'dir' || this.rules.isIgnored(path, true)) continue;
      const below = await scanLocalTree(this.options.localRoot, this.rules, path);
      for (const found of below.tree.values()) changes.set(found.path, found);
    }
    const plan = planLiveBatch(changes, this.known, this.rules, this.maxFileBytes);
    for (const entry of plan.tooLarge) this.skip(entry.path, tooLargeReason(entry.size, this.maxFileBytes));
    if (plan.deletes.length === 0 && plan.puts.length === 0) return;
    const written = await this.apply(agent, plan.deletes, plan.puts);
    // Nothing changed in the container (every file unreadable): nothing to reload.
    if (written.length === 0 && plan.deletes.length === 0) return;
    this.emit({ type: 'batch', service: this.options.service, initial: false, written: written.length, deleted: plan.deletes.length, bytes: fileBytes(written), savedAt: firstAt, writtenAt: this.now() });
  }

  /** Deletes, then puts what can be read; returns the entries written. */
  private async apply(agent: SyncAgent, deletes: readonly string[], puts: readonly TreeEntry[]): Promise<TreeEntry[]> {
    // An unreadable file that is no longer to be sent (gone, ignored, too large, or the same on both sides) is done with.
    const putting = new Set(puts.map((e) => e.path));
    for (const path of this.unreadable) if (!putting.has(path)) this.unreadable.delete(path);
    await agent.remove(deletes);
    for (const path of deletes) {
      // Only a directory has entries below it to forget; a burst of file deletes stays linear.
      if (this.known.get(path) === 'dir') for (const known of this.known.keys()) if (isWithin(known, path)) this.known.delete(known);
      this.known.delete(path);
    }
    if (puts.length === 0) return [];
    const failed = new Set<string>();
    const archive = localArchive(this.options.localRoot, puts, this.openFile, (error) => {
      failed.add(error.path);
      this.reportUnreadable(error);
    });
    await agent.put(archive.size, archive.chunks);
    // Known also when left out: a large file may be there damaged, and deleting a path that is not there is harmless.
    for (const entry of puts) this.known.set(entry.path, entry.kind);
    const written = puts.filter((e) => !failed.has(e.path));
    for (const entry of written) {
      this.unreadable.delete(entry.path);
      // Sent: should it fail again, it is reported again.
      this.reported.delete(entry.path);
    }
    return written;
  }

  /** Remembers an unreadable file for the next try; tells the user once per path until it is sent. */
  private reportUnreadable(error: UnreadableFileError): void {
    this.unreadable.add(error.path);
    if (error.gone || this.reported.has(error.path)) return;
    this.reported.add(error.path);
    this.emit({ type: 'unreadable', service: this.options.service, path: error.path, error });
  }

  /** Reports a path nh does not send, once per path until it is sent. */
  private skip(path: string, reason: string): void {
    if (this.reported.has(path)) return;
    this.reported.add(path);
    this.emit({ type: 'skipped', service: this.options.service, path, reason });
  }

  private emit(event: SyncEvent): void {
    this.options.onEvent?.(event);
  }
}

function fileBytes(entries: readonly TreeEntry[]): number {
  return entries.reduce((sum, e) => sum + (e.kind === 'file' ? e.size : 0), 0);
}

function tooLargeReason(size: number, limit: number): string {
  return `${(size / 1024 ** 2).toFixed(1)} MiB is over the sync limit of ${(limit / 1024 ** 2).toFixed(0)} MiB`;
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
