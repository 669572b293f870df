/**
 * The foreground dev loop of `nh up`, for every selected service at once: follow the dev pod, forward its
 * ports, sync its source, run its command (or debug command) and restart it after each synced batch when
 * hotReload is on. Everything reports through `onEvent`; nothing here prints.
 *
 * Order (dependsOn): a service's process starts after its first sync and once every service of the loop it
 * depends on is ready (readiness.ts). The order applies to the first start only: later restarts (hot reload)
 * do not wait for dependencies.
 *
 * Services join and leave while the loop runs (the page's enter/leave dev mode, and debug, which runs a
 * service again with its debug command): each has its own signal, so one can stop without the others.
 *
 * Exit: when `signal` aborts, every process group in the containers is stopped and waited for (TERM, then
 * KILL after 1 s), then forwards, sync sessions and pod watches end; `runDevLoop` resolves after that.
 */
import { setMaxListeners } from 'node:events';
import type { ServiceConfig } from '../config/model.js';
import type { ExecEndpoint } from '../kube/exec.js';
import type { PodTracker } from '../kube/pod-tracker.js';
import { startPortForward, type ForwardState, type PortForward } from '../forward/port-forward.js';
import { TunnelPool } from '../forward/tunnel-pool.js';
import type { SyncEvent } from '../sync/session.js';
import { NhError, type ErrorCode } from '../errors.js';
import { LineSplitter } from './lines.js';
import { waitsFor } from './order.js';
import type { OpenExec } from '../kube/run-command.js';
import { OutageTracker, type Outage } from './outage.js';
import { ProcessSupervisor, type ProcessState } from './process-supervisor.js';
import { mapToLocal, runSteps } from './build-step.js';
import type { ServiceStatus, SyncState } from './status-line.js';
import { commandOf, readinessCheck, sleep, waitUntilServing } from './readiness.js';

export type DevLoopEvent =
  | { readonly type: 'output'; readonly service: string; readonly stream: 'stdout' | 'stderr'; readonly line: string }
  /** waitingFor: what nh waits for while the cluster is out of reach (one line, not an error per retry). */
  | { readonly type: 'status'; readonly services: readonly ServiceStatus[]; readonly waitingFor: Outage | undefined }
  | {
      readonly type: 'reload';
      readonly service: string;
      readonly files: number;
      /** First save of the batch → files written in the container. */
      readonly saveToSyncedMs: number;
      /** Files written → new process started. */
      readonly syncedToRestartedMs: number;
    }
  | { readonly type: 'notice'; readonly service: string; readonly level: 'info' | 'warn'; readonly message: string }
  | { readonly type: 'error'; readonly service: string; readonly code: ErrorCode; readonly message: string; readonly hint: string }
  /** A synced batch: files written or deleted, bytes sent, and first save → written in the container. */
  | { readonly type: 'sync'; readonly service: string; readonly initial: boolean; readonly files: number; readonly bytes: number; readonly latencyMs: number }
  | { readonly type: 'process'; readonly service: string; readonly process: ServiceStatus['process'] }
  | { readonly type: 'forward'; readonly service: string; readonly local: number; readonly state: ForwardState };

/** What a session can ask of a running loop (the web page's actions). */
export interface DevLoopControl {
  /** Stops the service's process and starts it again; resolves with when it started (undefined: it did not). */
  restart(service: string): Promise<number | undefined>;
  /** Runs one more service (pods, forwards, sync, process); `debug`: its debug command and port. */
  add(service: DevLoopService, debug: boolean): Promise<void>;
  /** Stops a service's process (waiting for it), its sync, forwards and pod watch. */
  remove(service: string): Promise<void>;
  has(service: string): boolean;
}

export interface DevLoopService {
  readonly config: ServiceConfig;
  readonly pods: PodTracker;
  /** Runs the service's sync until the signal aborts, reporting through onEvent. */
  readonly sync: (onEvent: (event: SyncEvent) => void, signal: AbortSignal) => Promise<void>;
}

export interface DevLoopOptions {
  readonly endpoint: ExecEndpoint;
  readonly debug: boolean;
  readonly signal: AbortSignal;
  readonly onEvent: (event: DevLoopEvent) => void;
  /** Keep each hot-reloading service's next process ready ahead (ProcessSupervisor's standby). */
  readonly standby?: boolean;
  readonly openExec?: OpenExec;
  readonly now?: () => number;
  /** Receives the loop's control once its processes can be started. */
  readonly onControl?: (control: DevLoopControl) => void;
}

const DEPENDENCY_POLL_MS = 300;
/** The same warning from the same part is shown at most this often. */
const REPEAT_NOTICE_MS = 60_000;
/** An outage shorter than this ends without an "answers again" line. */
const OUTAGE_WORTH_A_LINE_MS = 1_000;

/** Starts every forward first (a taken local port fails here, before anything runs), then the loop. */
export async function runDevLoop(services: readonly DevLoopService[], options: DevLoopOptions): Promise<void> {
  const loop = new DevLoop(options);
  await loop.start(services.map((service) => ({ service, debug: options.debug })));
  options.onControl?.({
    restart: (name) => loop.restart(name),
    add: async (service, debug) => loop.start([{ service, debug }]),
    remove: (name) => loop.remove(name),
    has: (name) => loop.has(name),
  });
  await new Promise<void>((resolve) => {
    if (options.signal.aborted) resolve();
    else options.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  await loop.stop();
}

/** One service in the loop: its parts, and the signal that ends them. */
interface Running {
  readonly service: DevLoopService;
  readonly debug: boolean;
  readonly abort: AbortController;
  /** Ends when the loop stops or the service is removed. */
  readonly signal: AbortSignal;
  readonly tasks: Promise<unknown>[];
  readonly forwards: PortForward[];
  supervisor: ProcessSupervisor | undefined;
  sync: SyncState;
  process: ServiceStatus['process'];
  readonly forwardStates: Map<number, ForwardState>;
}

class DevLoop {
  private readonly now: () => number;
  /** Every service's parts listen to it (and to their own): dozens of listeners are expected. */
  private readonly inner = new AbortController();
  private readonly running = new Map<string, Running>();
  private readonly outage: OutageTracker;
  private readonly lastWarned = new Map<string, number>();
  /** Services whose process started (later batches reload them) and those ready for their dependents. */
  private readonly started = new Set<string>();
  private readonly readyToServe = new Set<string>();

  constructor(private readonly options: DevLoopOptions) {
    this.now = options.now ?? Date.now;
    this.outage = new OutageTracker(this.now);
    setMaxListeners(0, this.inner.signal);
  }

  has(name: string): boolean {
    return this.running.has(name);
  }

  /** Follows the services' pods and opens their forwards, then syncs and runs them; a forward that fails undoes them all. */
  async start(services: readonly { service: DevLoopService; debug: boolean }[]): Promise<void> {
    const added: Running[] = [];
    try {
      for (const { service, debug } of services) {
        if (this.running.has(service.config.name)) throw new NhError('NH_SERVICE_RUNNING', `${service.config.name} already runs in this session`, { hint: 'leave dev mode for it first, or restart it' });
        added.push(this.follow(service, debug));
      }
      for (const entry of added) await this.openForwards(entry);
    } catch (error) {
      await Promise.allSettled(added.map((entry) => this.remove(entry.service.config.name)));
      throw error;
    }
    const waits = waitsFor([...this.running.values()].map((r) => r.service.config));
    for (const entry of added) {
      const waiting = waits.get(entry.service.config.name) ?? [];
      if (entry.process.kind !== 'no-command' && waiting.length) entry.process = { kind: 'waiting-for', services: waiting };
    }
    this.publish();
    for (const entry of added) this.run(entry, waits.get(entry.service.config.name) ?? []);
  }

  /** Stops one service's process (and waits for it), then its sync, forwards and pod watch. */
  async remove(name: string): Promise<void> {
    const entry = this.running.get(name);
    if (!entry) return;
    await entry.supervisor?.stop().catch(() => undefined);
    entry.abort.abort();
    await Promise.allSettled([...entry.tasks, ...entry.forwards.map((f) => f.closed)]);
    this.running.delete(name);
    this.started.delete(name);
    this.readyToServe.delete(name);
    for (const part of ['pods', 'sync', 'process']) this.outage.recovered(`${part}:${name}`);
    this.publish();
  }

  async restart(name: string): Promise<number | undefined> {
    const supervisor = this.running.get(name)?.supervisor;
    if (!supervisor) throw new NhError('NH_UNKNOWN_SERVICE', `\`${name}\` runs no process in this session`, { hint: 'pick a service with command.run in the config' });
    return supervisor.restart(this.running.get(name)!.abort.signal);
  }

  /** Processes first, while pods and exec still work; then everything else. */
  async stop(): Promise<void> {
    const stopping = this.now();
    const entries = [...this.running.values()];
    await Promise.allSettled(entries.flatMap((entry) => (entry.supervisor ? [entry.supervisor.stop()] : [])));
    this.inner.abort();
    await Promise.allSettled(entries.flatMap((entry) => [...entry.tasks, ...entry.forwards.map((f) => f.closed)]));
    this.notice('', 'info', `stopped in ${this.now() - stopping} ms`);
  }

  private follow(service: DevLoopService, debug: boolean): Running {
    const name = service.config.name;
    const abort = new AbortController();
    setMaxListeners(0, abort.signal);
    const signal = AbortSignal.any([this.inner.signal, abort.signal]);
    setMaxListeners(0, signal);
    const command = commandOf(service.config, debug);
    if (!command) this.notice(name, 'info', `no command.${debug ? 'debug or command.run' : 'run'} in the config: nh syncs and forwards, and runs nothing`);
    const entry: Running = {
      service, debug, abort, signal, tasks: [], forwards: [], supervisor: undefined, sync: 'starting',
      process: command ? { kind: 'waiting', reason: 'first sync' } : { kind: 'no-command' }, forwardStates: new Map(),
    };
    this.running.set(name, entry);
    entry.tasks.push(service.pods.run(
      signal,
      (error) => this.lostCluster(`pods:${name}`, error) || this.warnOnce(name, `watching pods: ${(error as Error).message}`),
      () => this.reachedCluster(`pods:${name}`),
    ));
    return entry;
  }

  private async openForwards(entry: Running): Promise<void> {
    const name = entry.service.config.name;
    // One port-forward session per pod, shared by the service's forwards (its app and debug ports).
    const tunnels = new TunnelPool(this.options.endpoint, entry.signal);
    for (const { local, remote } of forwardsOf(entry.service.config, entry.debug)) {
      const forward = await startPortForward({
        endpoint: this.options.endpoint, pods: entry.service.pods, local, remote, signal: entry.signal, tunnels,
        onState: (state) => {
          entry.forwardStates.set(local, state);
          this.options.onEvent({ type: 'forward', service: name, local, state });
          this.publish();
        },
      });
      entry.forwardStates.set(local, forward.state());
      entry.forwards.push(forward);
    }
  }

  /** The service's process supervisor, sync and readiness watch. */
  private run(entry: Running, waiting: readonly string[]): void {
    const { options } = this;
    const { config } = entry.service;
    const name = config.name;
    const container = config.containers[0];
    const command = commandOf(config, entry.debug);
    const { signal } = entry;
    const check = readinessCheck(config, entry.debug);
    const setProcess = (process: ServiceStatus['process']) => {
      entry.process = process;
      options.onEvent({ type: 'process', service: name, process });
      this.publish();
    };
    if (container && command) {
      const splitters = { stdout: new LineSplitter(), stderr: new LineSplitter() };
      const steps = runSteps(name, command, container.dev.command.build);
      entry.supervisor = new ProcessSupervisor({
        service: name, container: container.name, workDir: container.dev.workDir, command: steps.run, build: steps.build,
        port: check.kind === 'port' ? check.port : undefined, endpoint: options.endpoint, pods: entry.service.pods,
        // Only where changes restart the process: elsewhere a standby would idle for nothing.
        standby: (options.standby ?? false) && Boolean(container.dev.hotReload),
        // A built binary's restart hands off: it starts while the old process serves (where the image has Go).
        handoff: true,
        ...(options.openExec ? { openExec: options.openExec } : {}),
        onOutput: (stream, data) => {
          for (const line of splitters[stream].push(data)) options.onEvent({ type: 'output', service: name, stream, line });
        },
        onNotice: (message) => this.notice(name, 'info', message),
        // New connections wait from the stop of the old process until the new one listens, and no longer.
        onServing: () => entry.forwards.forEach((forward) => forward.release()),
        onBuildFailed: (exitCode, output) => {
          this.notice(name, 'warn', `the build failed (exit ${exitCode}); the previous process keeps running${output.trim() ? ':' : ''}`);
          for (const line of mapToLocal(output, container.dev.workDir, container.dev.sync.localRoot).trimEnd().split('\n')) {
            if (line) options.onEvent({ type: 'output', service: name, stream: 'stderr', line });
          }
        },
        onState: (process: ProcessState) => {
          // Open connections keep a graceful server from exiting: close them, and hold new ones until it serves again.
          if (process.kind === 'restarting' || process.kind === 'starting') for (const forward of entry.forwards) forward.hold();
          else if (process.kind === 'crashed' || process.kind === 'exited' || process.kind === 'waiting' || process.kind === 'reconnecting') for (const forward of entry.forwards) forward.release();
          if (process.kind === 'reconnecting') this.lostCluster(`process:${name}`, process.error);
          if (process.kind === 'running') {
            // Also when the supervisor started it again by itself (after a lost connection): later batches reload it.
            this.started.add(name);
            this.reachedCluster(`process:${name}`);
          }
          if (process.kind === 'crashed') {
            options.onEvent({
              type: 'error', service: name, code: 'NH_PROCESS_CRASHED',
              message: `the process exited with code ${process.exitCode}${process.message ? ` (${process.message})` : ''}`,
              hint: 'nh restarts it on the next change',
            });
          }
          setProcess(process);
        },
      });
    }
    const supervisor = entry.supervisor;

    /** Starts (or restarts) once the dependencies serve; resolves with when the process started. */
    const startWhenReady = async (): Promise<number | undefined> => {
      if (!supervisor) return undefined;
      let missing = waiting.filter((d) => !this.readyToServe.has(d));
      if (missing.length) setProcess({ kind: 'waiting-for', services: missing });
      while (missing.length && !signal.aborted) {
        await sleep(DEPENDENCY_POLL_MS);
        missing = waiting.filter((d) => !this.readyToServe.has(d));
      }
      if (signal.aborted) return undefined;
      return supervisor.restart(signal);
    };

    let lastReload: number | undefined;
    const onSync = (event: SyncEvent) => {
      switch (event.type) {
        case 'batch': {
          entry.sync = 'synced';
          options.onEvent({ type: 'sync', service: name, initial: event.initial, files: event.written + event.deleted, bytes: event.bytes, latencyMs: event.writtenAt - event.savedAt });
          this.publish();
          const hotReload = Boolean(container?.dev.hotReload);
          // The first delta on a pod (also a replaced one) always starts the process; later batches only with hotReload.
          if (!event.initial && !hotReload) return;
          if (!event.initial && !this.started.has(name)) return;
          void startWhenReady().then((startedAt) => {
            // Batches that arrived during one restart share the next: one reload line for it.
            if (event.initial || startedAt === undefined || startedAt === lastReload) return;
            lastReload = startedAt;
            options.onEvent({ type: 'reload', service: name, files: event.written + event.deleted, saveToSyncedMs: event.writtenAt - event.savedAt, syncedToRestartedMs: startedAt - event.writtenAt });
          });
          return;
        }
        case 'pod-lost':
          entry.sync = this.lostCluster(`sync:${name}`, event.error) ? 'reconnecting' : 'no pod';
          this.started.delete(name);
          this.publish();
          return;
        case 'reconnect-failed':
          if (this.lostCluster(`sync:${name}`, event.error) && entry.sync !== 'reconnecting') {
            entry.sync = 'reconnecting';
            this.publish();
          }
          return;
        case 'pod-back':
          entry.sync = 'syncing';
          this.reachedCluster(`sync:${name}`);
          this.publish();
          return;
        case 'error':
          entry.sync = 'error';
          if (!this.lostCluster(`sync:${name}`, event.error)) this.warnOnce(name, `sync: ${event.error.message}`);
          this.publish();
          return;
        case 'skipped':
          this.notice(name, 'warn', `not synced: ${event.path} (${event.reason})`);
          return;
        case 'unreadable':
          options.onEvent({ type: 'error', service: name, code: event.error.code, message: `sync: ${event.error.message}`, hint: event.error.hint ?? 'check the file' });
          return;
        case 'ready':
          return;
      }
    };
    entry.tasks.push(entry.service.sync(onSync, signal).catch((error: Error) => options.onEvent({
      type: 'error', service: name, code: 'NH_SYNC_FAILED', message: `sync stopped: ${error.message}`, hint: (error as { hint?: string }).hint ?? 'fix the cause and run `nh up` again',
    })));
    const serving = { service: config, pods: entry.service.pods, check, endpoint: options.endpoint, started: () => supervisor === undefined || this.started.has(name) };
    entry.tasks.push(waitUntilServing(serving, signal).then((ready) => ready && this.readyToServe.add(name)));
  }

  private publish(): void {
    const services = [...this.running.values()].map((entry): ServiceStatus => ({
      name: entry.service.config.name, sync: entry.sync, process: entry.process,
      forwards: [...entry.forwardStates].map(([local, state]) => ({ local, state })),
    }));
    this.options.onEvent({ type: 'status', services, waitingFor: this.outage.current() });
  }

  /** Records a failure to reach the cluster (true), or says it is another kind of failure (false). */
  private lostCluster(part: string, error: unknown): boolean {
    const before = this.outage.current();
    if (!this.outage.failed(part, error)) return false;
    if (this.outage.current() !== before) this.publish();
    return true;
  }

  private reachedCluster(part: string): void {
    const before = this.outage.current();
    const ended = this.outage.recovered(part);
    if (!ended) {
      // Still out, but maybe for another reason now (the API server back, the kubelet not).
      if (this.outage.current() !== before) this.publish();
      return;
    }
    const waited = this.now() - ended.since;
    // A blip (a watch cut and resumed at once) is not worth a line each time; the status showed it while it lasted.
    if (waited >= OUTAGE_WORTH_A_LINE_MS) this.notice('', 'info', `${ended.what} answers again (waited ${(waited / 1000).toFixed(1)} s)`);
    this.publish();
  }

  /** A warning a retry loop may raise again and again: shown once a minute at most. */
  private warnOnce(service: string, message: string): void {
    const key = `${service}\n${message}`;
    const at = this.lastWarned.get(key);
    if (at !== undefined && this.now() - at < REPEAT_NOTICE_MS) return;
    this.lastWarned.set(key, this.now());
    this.notice(service, 'warn', message);
  }

  private notice(service: string, level: 'info' | 'warn', message: string): void {
    this.options.onEvent({ type: 'notice', service, level, message });
  }
}

/**
 * The service's forwards (of every container: a forward reaches the pod, whichever container listens; dev
 * mode's first, then `install.portForward` for a local port not taken yet), plus the debug port of the
 * container nh runs (same number locally) under --debug.
 */
export function forwardsOf(service: ServiceConfig, debug: boolean): { local: number; remote: number }[] {
  const dev = service.containers[0]?.dev;
  const forwards = service.containers.flatMap((c) => c.dev.portForwards);
  for (const f of service.install.containers.flatMap((c) => c.portForwards)) if (!forwards.some((g) => g.local === f.local)) forwards.push(f);
  const debugPort = dev?.debug?.remotePort;
  if (debug && debugPort !== undefined && !forwards.some((f) => f.remote === debugPort)) forwards.push({ local: debugPort, remote: debugPort });
  return forwards;
}
