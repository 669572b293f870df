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
 * nothing it does can throw out of here.
 */
import { openExec, type ExecChannel, type ExecEndpoint, type ExecTarget } from '../kube/exec.js';
import { runToEnd, type OpenExec } from '../kube/run-command.js';
import type { PodTracker, TrackedPod } from '../kube/pod-tracker.js';

export type ProcessState =
  | { readonly kind: 'waiting'; readonly reason: string }
  | { readonly kind: 'starting' }
  | { readonly kind: 'running'; readonly pod: string }
  | { readonly kind: 'restarting' }
  | { readonly kind: 'exited'; readonly exitCode: number }
  | { readonly kind: 'crashed'; readonly exitCode: number; readonly message: string | undefined }
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
  /** Seconds between TERM and KILL when stopping (default 1: Ctrl-C must finish within 2 s). */
  readonly graceSeconds?: number;
  readonly openExec?: OpenExec;
}

/** Where the group id of a service's process is kept in its container. */
export function pidFileOf(service: string): string {
  return `/tmp/.nh-run-${service.replace(/[^A-Za-z0-9_.-]/g, '_')}.pid`;
}

/**
 * `sh -c` that records its pid and becomes the command in workDir. $1 = pid file, $2 = workDir, the rest
 * the command: no word of the command is ever parsed by a shell. A watchdog in the same group holds the
 * exec's stdin, which nh never writes to: when nh dies (even SIGKILL) the kubelet closes it, and the
 * watchdog signals the whole group, so no process outlives the nh that started it. The command itself
 * reads /dev/null, as it did without stdin.
 */
export function runCommandLine(pidFile: string, workDir: string, command: readonly string[]): string[] {
  const script = [
    'echo $$ > "$1" || exit 126; cd "$2" || exit 126; shift 2',
    // A background job's stdin is /dev/null: keep the exec's stdin on fd 3 for the watchdog.
    'exec 3<&0',
    '{ cat <&3 >/dev/null 2>&1; kill -TERM -$$ 2>/dev/null; } >/dev/null 2>&1 &',
    'exec "$@" </dev/null 3<&-',
  ].join('\n');
  return ['sh', '-c', script, 'nh-run', pidFile, workDir, ...command];
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

export class ProcessSupervisor {
  private running: Running | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly exec: OpenExec;
  private readonly pidFile: string;

  constructor(private readonly options: SupervisorOptions) {
    this.exec = options.openExec ?? openExec;
    this.pidFile = pidFileOf(options.service);
  }

  /**
   * Stops whatever runs (this nh's process, or one an earlier nh left behind) and starts the command on
   * the current pod. Resolves with when the new process started, or undefined when there is no pod.
   */
  restart(signal: AbortSignal): Promise<number | undefined> {
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
      options.onState({ kind: 'crashed', exitCode: -1, message: (error as Error).message });
      return undefined;
    }
    const startedAt = Date.now();
    const running: Running = { channel, pod, stopping: false };
    this.running = running;
    options.onState({ kind: 'running', pod: pod.name });
    void channel.done.then(
      (result) => this.ended(running, result.exitCode, result.message),
      (error: Error) => this.ended(running, -1, error.message),
    );
    return startedAt;
  }

  private ended(running: Running, exitCode: number, message: string | undefined): void {
    if (this.running !== running) return;
    this.running = undefined;
    if (running.stopping) return;
    if (this.options.pods.current()?.uid !== running.pod.uid) this.options.onState({ kind: 'waiting', reason: 'the pod was replaced' });
    else if (exitCode === 0) this.options.onState({ kind: 'exited', exitCode });
    else this.options.onState({ kind: 'crashed', exitCode, message });
  }

  private async stopOn(pod: TrackedPod): Promise<void> {
    const running = this.running;
    if (running) running.stopping = true;
    try {
      await runToEnd(this.options.endpoint, this.target(pod), stopCommandLine(this.pidFile, this.options.graceSeconds ?? 1), this.exec);
    } catch {
      // The pod is gone or unreachable: so is the process.
    }
    if (running) {
      // The run channel ends once the group is gone; a dead pod may never say so.
      await Promise.race([running.channel.done.catch(() => undefined), delay(500)]);
      running.channel.terminate();
      if (this.running === running) this.running = undefined;
    }
  }

  private target(pod: TrackedPod): ExecTarget {
    return { namespace: this.options.pods.namespace, pod: pod.name, container: this.options.container };
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
