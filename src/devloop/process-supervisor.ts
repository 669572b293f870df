/**
 * Runs a service's command in its dev container and restarts it on demand. The command is exec'd through
 * `sh`, which the kubelet starts as a session and process-group leader; it writes its pid (= the group id)
 * to a pid file, then `exec`s the command, so everything the command spawns (`go run` → the built binary,
 * `npm start` → node) stays in that group. Stopping signals the whole group (TERM, then KILL after a grace
 * period) from a second exec and waits until no member is left: closing an exec socket alone would leave
 * the process running (kubernetes-client/javascript#2532). If nh itself dies, a watchdog in the group sees
 * the exec's stdin close and stops the group (see runCommandLine).
 *
 * A process that exits by itself is reported (crashed or exited) and left alone until the next restart;
 * nothing it does can throw out of here. An exec cut without an exit status (the API server or kubelet went
 * away, the network dropped) is not the process ending: the supervisor reports it reconnecting, and once the
 * container answers again it starts the command anew (stopping first whatever the pid file still names), so
 * exactly one process runs and nh follows its output again.
 */
import { ExecError, openExec, type ExecChannel, type ExecEndpoint, type ExecTarget } from '../kube/exec.js';
import { runToEnd, type OpenExec } from '../kube/run-command.js';
import type { PodTracker, TrackedPod } from '../kube/pod-tracker.js';

export type ProcessState =
  | { readonly kind: 'waiting'; readonly reason: string }
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
  readonly endpoint: ExecEndpoint;
  readonly pods: PodTracker;
  readonly onOutput: (stream: 'stdout' | 'stderr', data: Buffer) => void;
  readonly onState: (state: ProcessState) => void;
  /** What nh did about the process after a lost connection, in a sentence. */
  readonly onNotice?: (message: string) => void;
  /** Seconds between TERM and KILL when stopping (default 1: Ctrl-C must finish within 2 s). */
  readonly graceSeconds?: number;
  readonly openExec?: OpenExec;
  /** Waits between tries to reach the container again: doubling from initial up to max (default 250 ms, 1 s). */
  readonly reconnect?: { readonly initialMs: number; readonly maxMs: number };
}

/** Where the group id of a service's process is kept in its container. */
export function pidFileOf(service: string): string {
  return `/tmp/.nh-run-${service.replace(/[^A-Za-z0-9_.-]/g, '_')}.pid`;
}

/**
 * `sh -c` that records its pid and becomes the command in workDir. $1 = pid file, $2 = workDir, the rest
 * the command: no word of the command is ever parsed by a shell. A watchdog in the same group holds the
 * exec's stdin, which nh never writes to: when nh dies (even SIGKILL) the kubelet closes it, and the
 * watchdog signals the whole group, so no process outlives the nh that started it. Before it does, it leaves
 * a mark (cutMarkOf): the exec's end then tells of the cut connection, not of the process. The command
 * itself reads /dev/null, as it did without stdin.
 */
export function runCommandLine(pidFile: string, workDir: string, command: readonly string[]): string[] {
  const script = [
    'p=$1; rm -f "$p.cut"; echo $$ > "$p" || exit 126; cd "$2" || exit 126; shift 2',
    // A background job's stdin is /dev/null: keep the exec's stdin on fd 3 for the watchdog.
    'exec 3<&0',
    // The mark only while the command still runs: its own exit also closes stdin, just after.
    '{ cat <&3 >/dev/null 2>&1; kill -0 $$ 2>/dev/null && : > "$p.cut"; kill -TERM -$$ 2>/dev/null; } >/dev/null 2>&1 &',
    'exec "$@" </dev/null 3<&-',
  ].join('\n');
  return ['sh', '-c', script, 'nh-run', pidFile, workDir, ...command];
}

/** Left by the watchdog when the exec's stdin closed while the process ran: the connection was cut. */
export function cutMarkOf(pidFile: string): string {
  return `${pidFile}.cut`;
}

/** `sh -c` that prints `cut` when the watchdog stopped the last run (see runCommandLine), else `exited`. */
export function cutCheckLine(pidFile: string): string[] {
  return ['sh', '-c', 'if [ -e "$1" ]; then echo cut; else echo exited; fi', 'nh-check', cutMarkOf(pidFile)];
}

/**
 * `sh -c` that stops the group in the pid file: TERM, then KILL once graceSeconds have passed, then waits
 * until the group is empty. Prints `stopped` when it signalled something, `none` when nothing ran.
 * Uses only what dash and busybox share (`kill -SIG -PGID`, no `--`).
 */
export function stopCommandLine(pidFile: string, graceSeconds: number): string[] {
  const tenths = Math.max(1, Math.round(graceSeconds * 10));
  const script = [
    'pg=$(cat "$1" 2>/dev/null); rm -f "$1"',
    'case "$pg" in ""|*[!0-9]*) echo none; exit 0;; esac',
    'kill -TERM -"$pg" 2>/dev/null || { echo none; exit 0; }',
    'i=0',
    'while kill -0 -"$pg" 2>/dev/null; do',
    `  i=$((i+1)); if [ "$i" -ge ${tenths} ]; then kill -KILL -"$pg" 2>/dev/null; fi`,
    `  if [ "$i" -ge ${tenths + 20} ]; then break; fi`,
    '  sleep 0.1',
    'done',
    'echo stopped',
  ].join('\n');
  return ['sh', '-c', script, 'nh-stop', pidFile];
}

interface Running {
  readonly channel: ExecChannel;
  readonly pod: TrackedPod;
  stopping: boolean;
}

/** What the stop command found: a group it stopped, none, or no answer from the container. */
type StopOutcome = { readonly kind: 'stopped' | 'none' } | { readonly kind: 'unreachable'; readonly error: Error };

/** True when an exec failed on the way to the container (API server, kubelet, network), not in it. */
export function isConnectionLoss(error: unknown): boolean {
  if (!(error instanceof ExecError)) return false;
  return error.code === 'NH_EXEC_LOST' || (error.code === 'NH_EXEC_REFUSED' && (error.status ?? 0) >= 500);
}

export class ProcessSupervisor {
  private running: Running | undefined;
  /** Set while the connection is lost: the pod the process ran on. */
  private lostOn: TrackedPod | undefined;
  private signal: AbortSignal | undefined;
  private stopped = false;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly exec: OpenExec;
  private readonly pidFile: string;

  constructor(private readonly options: SupervisorOptions) {
    this.exec = options.openExec ?? openExec;
    this.pidFile = pidFileOf(options.service);
  }

  /**
   * Stops whatever runs (this nh's process, or one an earlier nh left behind) and starts the command on
   * the current pod, or on the next ready one (the pod may be unready for a moment, e.g. while the API
   * server restarts). Resolves with when the new process started, or undefined when the signal aborts.
   */
  async restart(signal: AbortSignal): Promise<number | undefined> {
    this.signal = signal;
    if (!this.options.pods.current()) {
      this.options.onState({ kind: 'waiting', reason: 'no ready pod' });
      // Outside the queue: stop() must not wait behind this.
      const ready = await this.options.pods.nextPod(signal).catch(() => undefined);
      if (!ready || this.stopped) return undefined;
    }
    return this.serialize(async () => {
      const pod = this.options.pods.current();
      if (!pod) {
        this.options.onState({ kind: 'waiting', reason: 'no ready pod' });
        return undefined;
      }
      this.options.onState(this.running ? { kind: 'restarting' } : { kind: 'starting' });
      await this.stopOn(pod);
      if (signal.aborted) return undefined;
      return this.startOn(pod, signal);
    });
  }

  /** Stops the process group and waits for it; safe to call when nothing runs. */
  stop(): Promise<void> {
    // No reconnect or waiting restart may start the process again after this.
    this.lostOn = undefined;
    this.stopped = true;
    return this.serialize(async () => {
      const pod = this.running?.pod ?? this.options.pods.current();
      if (pod) await this.stopOn(pod);
      this.options.onState({ kind: 'stopped' });
    });
  }

  /** One operation at a time: a restart never races a stop. */
  private serialize<T>(operation: () => Promise<T>): Promise<T> {
    const next = this.queue.then(operation, operation);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async startOn(pod: TrackedPod, signal: AbortSignal): Promise<number | undefined> {
    const { options } = this;
    let channel: ExecChannel;
    try {
      channel = await this.exec(options.endpoint, this.target(pod), runCommandLine(this.pidFile, options.workDir, options.command), {
        // Never written to: it ends when nh does, and the watchdog of runCommandLine then stops the group.
        stdin: true,
        signal,
        onStdout: (data) => options.onOutput('stdout', data),
        onStderr: (data) => options.onOutput('stderr', data),
      });
    } catch (error) {
      if (isConnectionLoss(error)) this.connectionLost(pod, error as Error);
      else options.onState({ kind: 'crashed', exitCode: -1, message: (error as Error).message });
      return undefined;
    }
    const startedAt = Date.now();
    const running: Running = { channel, pod, stopping: false };
    this.running = running;
    this.lostOn = undefined;
    options.onState({ kind: 'running', pod: pod.name });
    void channel.done.then(
      (result) => this.ended(running, result.exitCode, result.message),
      (error: Error) => this.ended(running, -1, error.message, error),
    );
    return startedAt;
  }

  /** `lost`: the exec ended without an exit status. */
  private ended(running: Running, exitCode: number, message: string | undefined, lost?: Error): void {
    if (this.running !== running) return;
    this.running = undefined;
    if (running.stopping) return;
    if (this.options.pods.current()?.uid !== running.pod.uid) this.options.onState({ kind: 'waiting', reason: 'the pod was replaced' });
    else if (lost && isConnectionLoss(lost)) this.connectionLost(running.pod, lost);
    else if (lost) this.reportExit(exitCode, message);
    else void this.judgeExit(running.pod, exitCode, message);
  }

  /**
   * An exit status does not prove the process ended by itself: a kubelet going away ends the exec with
   * one too, after closing its stdin made the watchdog stop the group. The watchdog's mark tells.
   */
  private async judgeExit(pod: TrackedPod, exitCode: number, message: string | undefined): Promise<void> {
    let cut: boolean;
    try {
      cut = (await runToEnd(this.options.endpoint, this.target(pod), cutCheckLine(this.pidFile), this.exec)).stdout.trim() === 'cut';
    } catch (error) {
      if (!isConnectionLoss(error)) return this.reportExit(exitCode, message);
      if (!this.running) this.connectionLost(pod, error as Error);
      return;
    }
    // A restart meanwhile has its own process to report on.
    if (this.running) return;
    if (cut) this.connectionLost(pod, new ExecError('the exec of the process was cut (its stdin closed)', 'NH_EXEC_LOST'));
    else this.reportExit(exitCode, message);
  }

  private reportExit(exitCode: number, message: string | undefined): void {
    if (exitCode === 0) this.options.onState({ kind: 'exited', exitCode });
    else this.options.onState({ kind: 'crashed', exitCode, message });
  }

  private connectionLost(pod: TrackedPod, error: Error): void {
    this.options.onState({ kind: 'reconnecting', error });
    const signal = this.signal;
    if (this.lostOn || !signal) return;
    this.lostOn = pod;
    void this.reconnect(pod, signal);
  }

  /** Tries to reach the container until it answers, then starts the command there again. */
  private async reconnect(pod: TrackedPod, signal: AbortSignal): Promise<void> {
    const backoff = this.options.reconnect ?? { initialMs: 250, maxMs: 1_000 };
    let wait = backoff.initialMs;
    while (!signal.aborted && this.lostOn === pod && !this.running) {
      await delay(wait, signal);
      wait = Math.min(wait * 2, backoff.maxMs);
      const done = await this.serialize(async () => {
        // A restart (a synced change) may have started it meanwhile.
        if (signal.aborted || this.running || this.lostOn !== pod) return true;
        if (this.options.pods.current()?.uid !== pod.uid) {
          this.lostOn = undefined;
          this.options.onState({ kind: 'waiting', reason: 'the pod was replaced' });
          return true;
        }
        // The stop answers whether the container is reachable, and ends a process the cut left running.
        const stop = await this.stopOn(pod);
        if (stop.kind === 'unreachable') {
          this.options.onState({ kind: 'reconnecting', error: stop.error });
          return false;
        }
        this.options.onNotice?.(
          stop.kind === 'stopped'
            ? 'the connection to the container is back; the process still ran, without nh following its output: restarted it'
            : 'the connection to the container is back; the process had stopped with it: started it again',
        );
        this.options.onState({ kind: 'starting' });
        await this.startOn(pod, signal);
        return this.lostOn !== pod;
      });
      if (done) return;
    }
  }

  private async stopOn(pod: TrackedPod): Promise<StopOutcome> {
    const running = this.running;
    if (running) running.stopping = true;
    let outcome: StopOutcome;
    try {
      const result = await runToEnd(this.options.endpoint, this.target(pod), stopCommandLine(this.pidFile, this.options.graceSeconds ?? 1), this.exec);
      outcome = { kind: result.stdout.trim() === 'stopped' ? 'stopped' : 'none' };
    } catch (error) {
      // The pod is gone or unreachable: so is the process, as far as this nh can tell.
      outcome = { kind: 'unreachable', error: error as Error };
    }
    if (running) {
      // The run channel ends once the group is gone; a dead pod may never say so.
      await Promise.race([running.channel.done.catch(() => undefined), delay(500)]);
      running.channel.terminate();
      if (this.running === running) this.running = undefined;
    }
    return outcome;
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
