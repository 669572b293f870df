/**
 * The foreground dev loop of `nh up`, for every selected service at once: follow the dev pod, forward its
 * ports, sync its source, run its command (or debug command) and restart it after each synced batch when
 * hotReload is on. Everything reports through `onEvent`; nothing here prints.
 *
 * Order (dependsOn): a service's process starts after its first sync and once every selected service it
 * depends on is ready (readinessCheck): its `readinessCommand` exits 0 in its dev container, or else it listens
 * in its pod (read from the pod's socket table, see forward/listening-probe.ts) on the remote port of its first
 * portForward, or under --debug on its debug port (a debugger may hold the program until you attach).
 * A dependency with neither counts as ready once its process runs. The order applies to the first
 * start only: later restarts (hot reload) do not wait for dependencies.
 *
 * Exit: when `signal` aborts, every process group in the containers is stopped and waited for (TERM, then
 * KILL after 1 s), then forwards, sync sessions and pod watches end; `runDevLoop` resolves after that.
 */
import { setMaxListeners } from 'node:events';
import type { ServiceConfig } from '../config/model.js';
import { openExec, type ExecEndpoint, type ExecTarget } from '../kube/exec.js';
import type { PodTracker } from '../kube/pod-tracker.js';
import { startPortForward, type ForwardState, type PortForward } from '../forward/port-forward.js';
import { probeListening } from '../forward/listening-probe.js';
import { TunnelPool } from '../forward/tunnel-pool.js';
import type { SyncEvent } from '../sync/session.js';
import { NhError, type ErrorCode } from '../errors.js';
import { LineSplitter } from './lines.js';
import { waitsFor } from './order.js';
import { runToEnd, type OpenExec } from '../kube/run-command.js';
import { OutageTracker, type Outage } from './outage.js';
import { ProcessSupervisor, type ProcessState } from './process-supervisor.js';
import { mapToLocal, runSteps } from './build-step.js';
import type { ServiceStatus, SyncState } from './status-line.js';

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
  readonly openExec?: OpenExec;
  readonly now?: () => number;
  /** Receives the loop's control once its processes can be started. */
  readonly onControl?: (control: DevLoopControl) => void;
}

const DEPENDENCY_POLL_MS = 300;
/** The same warning from the same part is shown at most this often. */
const REPEAT_NOTICE_MS = 60_000;

/** Starts every forward first (a taken local port fails here, before anything runs), then the loop. */
export async function runDevLoop(services: readonly DevLoopService[], options: DevLoopOptions): Promise<void> {
  const now = options.now ?? Date.now;
  const inner = new AbortController();
  const signal = inner.signal;
  // Every tunnel, forward, sync and probe listens to it: dozens of listeners are expected.
  setMaxListeners(0, signal);
  const states = new Map<string, { sync: SyncState; process: ServiceStatus['process']; forwards: Map<number, ForwardState> }>();
  const outage = new OutageTracker(now);
  const publish = () => options.onEvent({ type: 'status', services: services.map((s) => statusOf(s.config.name)), waitingFor: outage.current() });
  /** Records a failure to reach the cluster (true), or says it is another kind of failure (false). */
  const lostCluster = (part: string, error: unknown): boolean => {
    const before = outage.current();
    if (!outage.failed(part, error)) return false;
    if (outage.current() !== before) publish();
    return true;
  };
  const reachedCluster = (part: string) => {
    const before = outage.current();
    const ended = outage.recovered(part);
    if (!ended) {
      // Still out, but maybe for another reason now (the API server back, the kubelet not).
      if (outage.current() !== before) publish();
      return;
    }
    notice(options, '', 'info', `${ended.what} answers again (waited ${((now() - ended.since) / 1000).toFixed(1)} s)`);
    publish();
  };
  const lastWarned = new Map<string, number>();
  /** A warning a retry loop may raise again and again: shown once a minute at most. */
  const warnOnce = (service: string, message: string) => {
    const key = `${service}\n${message}`;
    const at = lastWarned.get(key);
    if (at !== undefined && now() - at < REPEAT_NOTICE_MS) return;
    lastWarned.set(key, now());
    notice(options, service, 'warn', message);
  };
  const statusOf = (name: string): ServiceStatus => {
    const state = states.get(name)!;
    return { name, sync: state.sync, process: state.process, forwards: [...state.forwards].map(([local, forward]) => ({ local, state: forward })) };
  };
  const deps = waitsFor(services.map((s) => s.config));
  for (const service of services) {
    if (!commandOf(service.config, options.debug)) notice(options, service.config.name, 'info', `no command.${options.debug ? 'debug or command.run' : 'run'} in the config: nh syncs and forwards, and runs nothing`);
    const waiting = deps.get(service.config.name) ?? [];
    states.set(service.config.name, {
      sync: 'starting',
      process: commandOf(service.config, options.debug) ? (waiting.length ? { kind: 'waiting-for', services: waiting } : { kind: 'waiting', reason: 'first sync' }) : { kind: 'no-command' },
      forwards: new Map(),
    });
  }
  const tasks: Promise<unknown>[] = services.map((s) =>
    s.pods.run(
      signal,
      (error) => lostCluster(`pods:${s.config.name}`, error) || warnOnce(s.config.name, `watching pods: ${(error as Error).message}`),
      () => reachedCluster(`pods:${s.config.name}`),
    ),
  );

  const forwards: PortForward[] = [];
  const forwardsByService = new Map<string, PortForward[]>();
  try {
    for (const service of services) {
      // One port-forward session per pod, shared by the service's forwards (its app and debug ports).
      const tunnels = new TunnelPool(options.endpoint, signal);
      for (const { local, remote } of forwardsOf(service.config, options.debug)) {
        const forward = await startPortForward({
          endpoint: options.endpoint, pods: service.pods, local, remote, signal, tunnels,
          onState: (state) => {
            states.get(service.config.name)!.forwards.set(local, state);
            options.onEvent({ type: 'forward', service: service.config.name, local, state });
            publish();
          },
        });
        states.get(service.config.name)!.forwards.set(local, forward.state());
        forwards.push(forward);
        forwardsByService.set(service.config.name, [...(forwardsByService.get(service.config.name) ?? []), forward]);
      }
    }
  } catch (error) {
    inner.abort();
    await Promise.allSettled([...tasks, ...forwards.map((f) => f.closed)]);
    throw error;
  }
  publish();

  const supervisors = new Map<string, ProcessSupervisor>();
  const started = new Set<string>();
  const readyToServe = new Set<string>();
  for (const service of services) {
    const name = service.config.name;
    const container = service.config.containers[0];
    const command = commandOf(service.config, options.debug);
    const setProcess = (process: ServiceStatus['process']) => {
      states.get(name)!.process = process;
      options.onEvent({ type: 'process', service: name, process });
      publish();
    };
    let supervisor: ProcessSupervisor | undefined;
    if (container && command) {
      const splitters = { stdout: new LineSplitter(), stderr: new LineSplitter() };
      const steps = runSteps(name, command, container.dev.command.build);
      const forwards = () => forwardsByService.get(name) ?? [];
      const check = readinessCheck(service.config, options.debug);
      supervisor = new ProcessSupervisor({
        service: name, container: container.name, workDir: container.dev.workDir, command: steps.run, build: steps.build,
        port: check.kind === 'port' ? check.port : undefined, endpoint: options.endpoint, pods: service.pods,
        ...(options.openExec ? { openExec: options.openExec } : {}),
        onOutput: (stream, data) => {
          for (const line of splitters[stream].push(data)) options.onEvent({ type: 'output', service: name, stream, line });
        },
        onNotice: (message) => notice(options, name, 'info', message),
        // New connections wait from the stop of the old process until the new one listens, and no longer.
        onServing: () => forwards().forEach((forward) => forward.release()),
        onBuildFailed: (exitCode, output) => {
          notice(options, name, 'warn', `the build failed (exit ${exitCode}); the previous process keeps running${output.trim() ? ':' : ''}`);
          for (const line of mapToLocal(output, container.dev.workDir, container.dev.sync.localRoot).trimEnd().split('\n')) {
            if (line) options.onEvent({ type: 'output', service: name, stream: 'stderr', line });
          }
        },
        onState: (process: ProcessState) => {
          // Open connections keep a graceful server from exiting: close them, and hold new ones until it serves again.
          if (process.kind === 'restarting' || process.kind === 'starting') for (const forward of forwards()) forward.hold();
          else if (process.kind === 'crashed' || process.kind === 'exited' || process.kind === 'waiting' || process.kind === 'reconnecting') for (const forward of forwards()) forward.release();
          if (process.kind === 'reconnecting') lostCluster(`process:${name}`, process.error);
          if (process.kind === 'running') {
            // Also when the supervisor started it again by itself (after a lost connection): later batches reload it.
            started.add(name);
            reachedCluster(`process:${name}`);
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
      supervisors.set(name, supervisor);
    }

    /** Starts (or restarts) once the dependencies serve; resolves with when the process started. */
    const startWhenReady = async (): Promise<number | undefined> => {
      if (!supervisor) return undefined;
      const waiting = deps.get(name) ?? [];
      let missing = waiting.filter((d) => !readyToServe.has(d));
      if (missing.length) setProcess({ kind: 'waiting-for', services: missing });
      while (missing.length && !signal.aborted) {
        await sleep(DEPENDENCY_POLL_MS);
        missing = waiting.filter((d) => !readyToServe.has(d));
      }
      if (signal.aborted) return undefined;
      const startedAt = await supervisor.restart(signal);
      return startedAt;
    };

    let lastReload: number | undefined;
    const onSync = (event: SyncEvent) => {
      const state = states.get(name)!;
      switch (event.type) {
        case 'batch': {
          state.sync = 'synced';
          options.onEvent({ type: 'sync', service: name, initial: event.initial, files: event.written + event.deleted, bytes: event.bytes, latencyMs: event.writtenAt - event.savedAt });
          publish();
          const hotReload = Boolean(container?.dev.hotReload);
          // The first delta on a pod (also a replaced one) always starts the process; later batches only with hotReload.
          if (!event.initial && !hotReload) return;
          if (!event.initial && !started.has(name)) return;
          void startWhenReady().then((startedAt) => {
            // Batches that arrived during one restart share the next: one reload line for it.
            if (event.initial || startedAt === undefined || startedAt === lastReload) return;
            lastReload = startedAt;
            options.onEvent({ type: 'reload', service: name, files: event.written + event.deleted, saveToSyncedMs: event.writtenAt - event.savedAt, syncedToRestartedMs: startedAt - event.writtenAt });
          });
          return;
        }
        case 'pod-lost':
          state.sync = lostCluster(`sync:${name}`, event.error) ? 'reconnecting' : 'no pod';
          started.delete(name);
          publish();
          return;
        case 'reconnect-failed':
          if (lostCluster(`sync:${name}`, event.error) && state.sync !== 'reconnecting') {
            state.sync = 'reconnecting';
            publish();
          }
          return;
        case 'pod-back':
          state.sync = 'syncing';
          reachedCluster(`sync:${name}`);
          publish();
          return;
        case 'error':
          state.sync = 'error';
          if (!lostCluster(`sync:${name}`, event.error)) warnOnce(name, `sync: ${event.error.message}`);
          publish();
          return;
        case 'skipped':
          notice(options, name, 'warn', `not synced: ${event.path} (${event.reason})`);
          return;
        case 'unreadable':
          options.onEvent({ type: 'error', service: name, code: event.error.code, message: `sync: ${event.error.message}`, hint: event.error.hint ?? 'check the file' });
          return;
        case 'ready':
          return;
      }
    };
    tasks.push(service.sync(onSync, signal).catch((error: Error) => options.onEvent({
      type: 'error', service: name, code: 'NH_SYNC_FAILED', message: `sync stopped: ${error.message}`, hint: (error as { hint?: string }).hint ?? 'fix the cause and run `nh up` again',
    })));
    tasks.push(watchServing(service, options, signal, supervisor === undefined, () => readyToServe.add(name), () => started.has(name)));
  }

  options.onControl?.({
    restart: async (name) => {
      const supervisor = supervisors.get(name);
      if (!supervisor) throw new NhError('NH_UNKNOWN_SERVICE', `\`${name}\` runs no process in this session`, { hint: 'pick a service with command.run in the config' });
      return supervisor.restart(signal);
    },
  });
  await new Promise<void>((resolve) => {
    if (options.signal.aborted) resolve();
    else options.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  const stopping = now();
  // Processes first, while pods and exec still work; then everything else.
  await Promise.allSettled([...supervisors.values()].map((s) => s.stop()));
  inner.abort();
  await Promise.allSettled([...tasks, ...forwards.map((f) => f.closed)]);
  notice(options, '', 'info', `stopped in ${now() - stopping} ms`);
}

/** Marks the service as serving once its readiness check passes in the pod. */
async function watchServing(service: DevLoopService, options: DevLoopOptions, signal: AbortSignal, noProcess: boolean, onServing: () => void, isStarted: () => boolean): Promise<void> {
  const check = readinessCheck(service.config, options.debug);
  while (!signal.aborted) {
    await sleep(DEPENDENCY_POLL_MS);
    if (!noProcess && !isStarted()) continue;
    const pod = service.pods.current();
    if (!pod) continue;
    if (await passes(check, options.endpoint, { namespace: service.pods.namespace, pod: pod.name, container: service.config.containers[0]?.name }, signal)) {
      onServing();
      return;
    }
  }
}

async function passes(check: ReadinessCheck, endpoint: ExecEndpoint, target: ExecTarget, signal: AbortSignal): Promise<boolean> {
  switch (check.kind) {
    case 'process':
      return true;
    case 'port':
      return (await probeListening(endpoint, { namespace: target.namespace, pod: target.pod, port: check.port })) === undefined;
    case 'command':
      try {
        return (await runToEnd(endpoint, target, check.command, openExec, signal)).exitCode === 0;
      } catch {
        return false; // the exec could not run (pod going away): try again on the next poll
      }
  }
}

/** The command nh runs: with hotReload, Nocalhost's hotReloadRun / hotReloadDebug when present. */
export function commandOf(service: ServiceConfig, debug: boolean): readonly string[] | undefined {
  const dev = service.containers[0]?.dev;
  const command = dev?.command;
  const run = (dev?.hotReload ? command?.hotReloadRun : undefined) ?? command?.run;
  const debugRun = (dev?.hotReload ? command?.hotReloadDebug : undefined) ?? command?.debug;
  return debug ? (debugRun ?? run) : run;
}

/** What tells that a dependency is up: its readiness command, else a port it listens on, else its process running. */
export type ReadinessCheck =
  | { readonly kind: 'command'; readonly command: readonly string[] }
  | { readonly kind: 'port'; readonly port: number }
  | { readonly kind: 'process' };

export function readinessCheck(service: ServiceConfig, debug: boolean): ReadinessCheck {
  const dev = service.containers[0]?.dev;
  if (dev?.readinessCommand) {
    // In workDir, as the service's own command runs: `sh -c 'cd "$1" && shift && exec "$@"' sh DIR CMD…`.
    return { kind: 'command', command: ['sh', '-c', 'cd "$1" && shift && exec "$@"', 'sh', dev.workDir, ...dev.readinessCommand] };
  }
  const port = (debug ? dev?.debug?.remotePort : undefined) ?? dev?.portForwards[0]?.remote;
  return port === undefined ? { kind: 'process' } : { kind: 'port', port };
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

function notice(options: DevLoopOptions, service: string, level: 'info' | 'warn', message: string): void {
  options.onEvent({ type: 'notice', service, level, message });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
