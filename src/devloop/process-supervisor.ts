/**
 * Runs a service's command in its dev container and restarts it on demand, through one long-lived exec per
 * pod that runs the supervisor script (supervisor-script.ts). A restart is a line on that open channel: the
 * script stops the old process group (TERM, KILL after the grace) and starts the new one as one step, then
 * says when the new process listens on the service's port. Each start is its own session and process group,
 * so everything the command spawns (`npm start` → node) is stopped with it. With a build command (configured,
 * or derived from `go run`) the build runs first while the old process keeps serving; a failed build leaves
 * it serving and is reported with the compiler's output.
 *
 * If nh dies (even SIGKILL) the kubelet closes the channel's stdin and the script stops the group. A process
 * that exits by itself is reported (crashed or exited) and left alone until the next restart; nothing it does
 * can throw out of here. A channel that ends without nh closing it is a lost connection, never the process
 * ending: the supervisor reports it reconnecting, and once the container answers it opens a new channel and
 * starts the command anew (the script first stops whatever the pid file still names), so exactly one process
 * runs and nh follows its output again.
 */
import { randomBytes } from 'node:crypto';
import { NhError } from '../errors.js';
import { ExecError, openExec, type ExecChannel, type ExecEndpoint, type ExecTarget } from '../kube/exec.js';
import { runToEnd, type OpenExec } from '../kube/run-command.js';
import type { PodTracker, TrackedPod } from '../kube/pod-tracker.js';
import { handoffRequest, handsOff, standbyCommand, standbyPreloadOf, supervisorCommandLine, SupervisorReader, type SupervisorEvent } from './supervisor-script.js';

export type ProcessState =
  | { readonly kind: 'waiting'; readonly reason: string }
  /** The build command runs; the old process (if any) keeps serving. */
  | { readonly kind: 'building' }
  | { readonly kind: 'starting' }
  | { readonly kind: 'running'; readonly pod: string }
  | { readonly kind: 'restarting' }
  | { readonly kind: 'exited'; readonly exitCode: number }
  | { readonly kind: 'crashed'; readonly exitCode: number; readonly message: string | undefined }
  /** The connection to the container was lost (not the process): nh starts it again once it answers. */
  | { readonly kind: 'reconnecting'; readonly error: Error }
  | { readonly kind: 'stopped' };

export interface SupervisorOptions {
  readonly service: string;
  /** The dev container; undefined = the pod's first. */
  readonly container: string | undefined;
  readonly workDir: string;
  readonly command: readonly string[];
  /** Run before each start, in workDir; the old process serves until it succeeds. */
  readonly build?: readonly string[] | undefined;
  /** The port the process serves on: a started process counts as serving once it listens there. */
  readonly port?: number | undefined;
  readonly endpoint: ExecEndpoint;
  readonly pods: PodTracker;
  readonly onOutput: (stream: 'stdout' | 'stderr', data: Buffer) => void;
  readonly onState: (state: ProcessState) => void;
  /** The new process listens on `port` (or, without one, has started): connections may reach it. */
  readonly onServing?: () => void;
  /** The build failed; the old process, if any, still runs. `output` is the build's own output. */
  readonly onBuildFailed?: (exitCode: number, output: string) => void;
  /** What nh did about the process after a lost connection, in a sentence. */
  readonly onNotice?: (message: string) => void;
  /**
   * Keep the next process ready (a standby, for a service with a port): a plain `node` command booted up to the
   * application's code, any other command forked up to its exec. A restart then costs the application's own
   * start, at the price of one idle process (Node's, or a shell's). Default false.
   */
  readonly standby?: boolean;
  /**
   * With a standby that is not Node booted ahead (a built binary): start the new process while the old one
   * still serves, holding its first bind until the old one is gone (the hand-off helper, built in the
   * container where it has `go`). Default false.
   */
  readonly handoff?: boolean;
  /** Seconds between TERM and KILL when stopping (default 1: Ctrl-C must finish within 2 s). */
  readonly graceSeconds?: number;
  readonly openExec?: OpenExec;
  /** Waits between tries to reach the container again: doubling from initial up to max (default 250 ms, 1 s). */
  readonly reconnect?: { readonly initialMs: number; readonly maxMs: number };
}

/** From a new process listening to its standby's start (serving()). */
const STANDBY_DELAY_MS = 250;

/** Where the group id of a service's process is kept in its container. */
export function pidFileOf(service: string): string {
  return `/tmp/.nh-run-${service.replace(/[^A-Za-z0-9_.-]/g, '_')}.pid`;
}

/** True when an exec failed on the way to the container (API server, kubelet, network), not in it. */
export function isConnectionLoss(error: unknown): boolean {
  if (!(error instanceof ExecError)) return false;
  return error.code === 'NH_EXEC_LOST' || (error.code === 'NH_EXEC_REFUSED' && (error.status ?? 0) >= 500);
}

/** The supervisor script on one pod: requests by id, and the events it sends unasked. */
interface Channel {
  readonly pod: TrackedPod;
  readonly exec: ExecChannel;
  request(op: 'build' | 'start' | 'stop' | 'standby'): Promise<SupervisorEvent>;
  /** Set when nh itself ends the channel: its end is then no lost connection. */
  closing: boolean;
}

export class ProcessSupervisor {
  private channel: Channel | undefined;
  /** The generation the script gave the process nh last started; its exit is reported, older ones are not. */
  private generation = 0;
  private processRuns = false;
  /** Set while the connection is lost: the pod the process ran on. */
  private lostOn: TrackedPod | undefined;
  private signal: AbortSignal | undefined;
  private stopped = false;
  private queue: Promise<unknown> = Promise.resolve();
  /** A restart queued behind the one under way: every change until it begins is served by it. */
  private queuedRestart: Promise<number | undefined> | undefined;
  /** The channel a build runs on: a stop ends the build at once instead of waiting behind it. */
  private building: Channel | undefined;
  private earlyExit: { readonly generation: number; readonly exitCode: number } | undefined;
  /**
   * A new process that listens at once (a Go binary: a few ms) is reported in the same chunk as its start,
   * before the start's answer has set `generation`: kept here, and served once it has.
   */
  private earlyListening: number | undefined;
  /** Set by a reconnect: the next start tells what became of the process meanwhile. */
  private reconnectedFrom: TrackedPod | undefined;
  private readonly exec: OpenExec;
  private readonly pidFile: string;
  /** The standby's command, when this service keeps one. */
  private readonly standby: readonly string[] | undefined;

  constructor(private readonly options: SupervisorOptions) {
    this.exec = options.openExec ?? openExec;
    this.pidFile = pidFileOf(options.service);
    // Only with a port: its listening is what says the released standby got past its preload, and only then may
    // the script replace the fifo with the next one's.
    this.standby = options.standby && options.port ? standbyCommand(options.command, standbyPreloadOf(this.pidFile)) : undefined;
  }

  /**
   * Builds (when a build command is set), then stops whatever runs (this nh's process, or one an earlier nh
   * left behind) and starts the command on the current pod, or on the next ready one. Resolves with when the
   * new process started, or undefined when it did not (build failed, signal aborted, container unreachable).
   * Calls made while a restart is under way are served by one more restart after it.
   */
  async restart(signal: AbortSignal): Promise<number | undefined> {
    this.signal = signal;
    if (!this.options.pods.current()) {
      this.options.onState({ kind: 'waiting', reason: 'no ready pod' });
      // Outside the queue: stop() must not wait behind this.
      const ready = await this.options.pods.nextPod(signal).catch(() => undefined);
      if (!ready || this.stopped) return undefined;
    }
    if (this.queuedRestart) return this.queuedRestart;
    const restart = this.serialize(async () => {
      this.queuedRestart = undefined;
      const pod = this.options.pods.current();
      if (!pod || this.stopped) {
        if (!this.stopped) this.options.onState({ kind: 'waiting', reason: 'no ready pod' });
        return undefined;
      }
      return this.restartOn(pod, signal);
    });
    this.queuedRestart = restart;
    return restart;
  }

  /** Stops the process group and waits for it, then ends the channel; safe to call when nothing runs. */
  stop(): Promise<void> {
    // No reconnect or waiting restart may start the process again after this.
    this.lostOn = undefined;
    this.stopped = true;
    if (this.building) void this.building.request('stop').catch(() => undefined);
    return this.serialize(async () => {
      const channel = this.channel;
      // Its exit from here on is nh's doing, not a crash.
      this.processRuns = false;
      if (channel) {
        channel.closing = true;
        await channel.request('stop').catch(() => undefined);
        channel.exec.closeStdin();
        await Promise.race([channel.exec.done.catch(() => undefined), delay(1_000)]);
        channel.exec.terminate();
        this.channel = undefined;
      }
      this.processRuns = false;
      this.options.onState({ kind: 'stopped' });
    });
  }

  /** One operation at a time: a restart never races a stop. */
  private serialize<T>(operation: () => Promise<T>): Promise<T> {
    const next = this.queue.then(operation, operation);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async restartOn(pod: TrackedPod, signal: AbortSignal): Promise<number | undefined> {
    const { options } = this;
    try {
      const channel = await this.channelOn(pod, signal);
      if (options.build) {
        options.onState({ kind: 'building' });
        this.building = channel;
        const built = await channel.request('build').finally(() => (this.building = undefined));
        if (this.stopped) return undefined;
        if (built.kind === 'build-failed') {
          this.lostOn = undefined;
          const output = await this.buildOutput(pod);
          if (this.processRuns) options.onState({ kind: 'running', pod: pod.name });
          else options.onState({ kind: 'crashed', exitCode: built.exitCode, message: 'the build failed' });
          options.onBuildFailed?.(built.exitCode, output);
          return undefined;
        }
      }
      // A newer change waits behind this one: its build will be the one to start (a burst of saves, one start).
      if (signal.aborted || this.stopped || (options.build && this.queuedRestart)) {
        if (this.processRuns) options.onState({ kind: 'running', pod: pod.name });
        return undefined;
      }
      // The old process's exit, reported while it is replaced, is no crash.
      const replacing = this.processRuns;
      this.processRuns = false;
      options.onState(replacing ? { kind: 'restarting' } : { kind: 'starting' });
      const started = await channel.request('start');
      if (started.kind !== 'started') return undefined;
      this.generation = started.generation;
      this.processRuns = true;
      this.lostOn = undefined;
      const startedAt = Date.now();
      options.onState({ kind: 'running', pod: pod.name });
      if (this.reconnectedFrom === pod) {
        options.onNotice?.(started.stoppedOld
          ? 'the connection to the container is back; the process still ran, without nh following its output: restarted it'
          : 'the connection to the container is back; the process had stopped with it: started it again');
      }
      this.reconnectedFrom = undefined;
      if (this.earlyListening === started.generation) this.serving();
      this.earlyListening = undefined;
      if (this.earlyExit?.generation === started.generation) this.exited(started.generation, this.earlyExit.exitCode);
      return startedAt;
    } catch (error) {
      if (isConnectionLoss(error)) {
        this.connectionLost(pod, error as Error);
      } else {
        this.lostOn = undefined;
        options.onState({ kind: 'crashed', exitCode: -1, message: (error as Error).message });
      }
      return undefined;
    }
  }

  /** The open channel on this pod, or a new one (an old one on another pod is dropped). */
  private async channelOn(pod: TrackedPod, signal: AbortSignal): Promise<Channel> {
    if (this.channel?.pod.uid === pod.uid) return this.channel;
    if (this.channel) {
      this.channel.closing = true;
      this.channel.exec.terminate();
      this.channel = undefined;
    }
    const { options } = this;
    // A new script numbers its processes from 1 again: an older channel's numbers would make this one's first
    // `listening` or `exited`, arriving with its start's answer, look stale.
    this.generation = 0;
    this.earlyListening = undefined;
    this.earlyExit = undefined;
    const marker = randomBytes(6).toString('hex');
    const reader = new SupervisorReader(marker);
    // Requests waiting for their answer; all of them fail when the channel ends (one reaction on exec.done
    // for the channel, not one per request: those would stay pending, and in memory, until the channel ends).
    const waiting = new Map<number, { answered: (event: SupervisorEvent) => void; failed: (error: Error) => void }>();
    let greeted: ((event: SupervisorEvent) => void) | undefined;
    const greeting = new Promise<SupervisorEvent>((resolve) => (greeted = resolve));
    let nextId = 1;
    const onEvent = (event: SupervisorEvent) => {
      if (event.kind === 'ready' || event.kind === 'fatal') return greeted?.(event);
      if (event.kind === 'exited') return this.exited(event.generation, event.exitCode);
      if (event.kind === 'listening') {
        if (event.generation === this.generation) this.serving();
        else if (event.generation > this.generation) this.earlyListening = event.generation;
        return;
      }
      const request = waiting.get(event.id);
      waiting.delete(event.id);
      request?.answered(event);
    };
    const exec = await this.exec(options.endpoint, this.target(pod), supervisorCommandLine({
      marker, pidFile: this.pidFile, workDir: options.workDir, port: options.port ?? 0, run: options.command, build: options.build, graceSeconds: options.graceSeconds ?? 1,
      standby: this.standby, handoff: options.handoff ?? false,
    }), {
      // Never closed by nh while it runs: when nh dies the kubelet closes it, and the script stops the group.
      stdin: true,
      signal,
      onStdout: (data) => {
        const { output, events } = reader.push(data);
        for (const chunk of output) options.onOutput('stdout', chunk);
        for (const event of events) onEvent(event);
      },
      onStderr: (data) => options.onOutput('stderr', data),
    });
    let ended: Error | undefined;
    const channel: Channel = {
      pod, exec, closing: false,
      request: async (op) => {
        if (ended) throw ended;
        const id = nextId++;
        const answer = new Promise<SupervisorEvent>((answered, failed) => waiting.set(id, { answered, failed }));
        try {
          await exec.write(new TextEncoder().encode(`${op} ${id}\n`));
        } catch (error) {
          waiting.delete(id);
          throw error;
        }
        return answer;
      },
    };
    const lost = (error: Error) => {
      ended = error;
      for (const request of waiting.values()) request.failed(error);
      waiting.clear();
      greeted?.({ kind: 'fatal', reason: 'lost' });
      if (this.channel === channel) this.channel = undefined;
      if (!channel.closing) this.channelEnded(pod);
    };
    void exec.done.then(
      (result) => lost(new ExecError(`the supervisor in ${pod.name} ended (exit ${result.exitCode}${result.message ? `: ${result.message}` : ''})`, 'NH_EXEC_LOST')),
      (error: Error) => lost(isConnectionLoss(error) ? error : new ExecError(error.message, 'NH_EXEC_LOST', error)),
    );
    const hello = await greeting;
    if (hello.kind === 'fatal') {
      channel.closing = true;
      exec.terminate();
      if (ended) throw ended;
      throw new NhError('NH_EXEC_REFUSED', hello.reason === 'setsid'
        ? 'the dev image has no `setsid` (util-linux or busybox), which nh needs to run the command as its own process group'
        : `cannot enter ${options.workDir} in the dev container`, { hint: 'check the dev image and workDir: `nh exec SERVICE`' });
    }
    // The hand-off helper's source, once per channel, before any start: the script builds it at the first standby.
    if (handsOff({ handoff: options.handoff, standby: this.standby })) await exec.write(new TextEncoder().encode(handoffRequest()));
    this.channel = channel;
    return channel;
  }

  /**
   * The process nh started serves: connections may reach it. A while later the next one boots ahead: right away
   * its boot would take the CPU from the new process's first requests. Only if no start came meanwhile: the
   * process that listened has then read its byte, and the script may replace the fifo.
   */
  private serving(): void {
    this.options.onServing?.();
    if (!this.standby) return;
    const generation = this.generation;
    const channel = this.channel;
    setTimeout(() => {
      if (channel && this.channel === channel && !channel.closing && !this.stopped && this.generation === generation && this.processRuns) {
        void channel.request('standby').catch(() => undefined);
      }
    }, STANDBY_DELAY_MS).unref();
  }

  private exited(generation: number, exitCode: number): void {
    // A process may end before the script's `started` for it arrives: reported right after that.
    if (generation > this.generation) this.earlyExit = { generation, exitCode };
    if (generation !== this.generation || !this.processRuns) return;
    this.processRuns = false;
    if (exitCode === 0) this.options.onState({ kind: 'exited', exitCode });
    else this.options.onState({ kind: 'crashed', exitCode, message: undefined });
  }

  /** The channel ended without nh ending it: the pod is gone, or the connection was lost. */
  private channelEnded(pod: TrackedPod): void {
    if (this.stopped) return;
    const wasRunning = this.processRuns;
    this.processRuns = false;
    if (this.options.pods.current()?.uid !== pod.uid) {
      if (wasRunning) this.options.onState({ kind: 'waiting', reason: 'the pod was replaced' });
      return;
    }
    this.connectionLost(pod, new ExecError(`the connection to the container ${pod.name} was lost`, 'NH_EXEC_LOST'));
  }

  private async buildOutput(pod: TrackedPod): Promise<string> {
    try {
      return (await runToEnd(this.options.endpoint, this.target(pod), ['cat', `${this.pidFile}.build`], this.exec)).stdout;
    } catch (error) {
      return `(the build's output could not be read: ${(error as Error).message})`;
    }
  }

  private connectionLost(pod: TrackedPod, error: Error): void {
    this.options.onState({ kind: 'reconnecting', error });
    const signal = this.signal;
    if (this.lostOn || !signal || this.stopped) return;
    this.lostOn = pod;
    void this.reconnect(pod, signal);
  }

  /** Tries to reach the container until it answers, then starts the command there again. */
  private async reconnect(pod: TrackedPod, signal: AbortSignal): Promise<void> {
    const backoff = this.options.reconnect ?? { initialMs: 250, maxMs: 1_000 };
    let wait = backoff.initialMs;
    while (!signal.aborted && this.lostOn === pod) {
      await delay(wait, signal);
      wait = Math.min(wait * 2, backoff.maxMs);
      const done = await this.serialize(async () => {
        // A restart (a synced change) may have started it meanwhile.
        if (signal.aborted || this.lostOn !== pod || this.stopped) return true;
        if (this.options.pods.current()?.uid !== pod.uid) {
          this.lostOn = undefined;
          this.options.onState({ kind: 'waiting', reason: 'the pod was replaced' });
          return true;
        }
        this.reconnectedFrom = pod;
        // No "starting" here: restartOn says what it does once the container answers, and an outage of the API
        // server would otherwise flip every service's status between two lines on each attempt.
        // A loss again keeps lostOn (the loop goes on); a start or any other outcome ends it.
        await this.restartOn(pod, signal);
        return this.lostOn !== pod;
      });
      if (done) return;
    }
  }

  private target(pod: TrackedPod): ExecTarget {
    return { namespace: this.options.pods.namespace, pod: pod.name, container: this.options.container };
  }
}

function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    timer.unref();
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
