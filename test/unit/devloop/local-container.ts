// A "container" that is this machine: each exec runs its command in a new session (as the kubelet's exec does),
// so the supervisor script and the supervisor are tested for real, without a cluster. A test can cut a channel
// (the connection lost, with or without the kubelet closing the process's stdin) and refuse the next opens.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { ExecError, type ExecChannel, type ExecResult } from '../../../src/kube/exec.js';
import type { OpenExec } from '../../../src/kube/run-command.js';

export interface LocalExec {
  readonly command: readonly string[];
  readonly child: ChildProcessWithoutNullStreams;
  /** The connection drops: nh sees no exit status; `stdinCloses` says whether the process sees its stdin end. */
  cut(stdinCloses: boolean): void;
}

/** `env`: the environment of every exec (e.g. a PATH with a slow `setsid` first). */
export function localContainer(env: NodeJS.ProcessEnv = process.env) {
  const execs: LocalExec[] = [];
  let refusals = 0;
  const exec: OpenExec = async (_endpoint, _target, command, options) => {
    if (refusals > 0) {
      refusals--;
      throw new ExecError('exec in ns/p1 failed: connect ECONNREFUSED', 'NH_EXEC_LOST');
    }
    const child = spawn('setsid', ['-w', ...command], { stdio: ['pipe', 'pipe', 'pipe'], env });
    let settle!: { resolve: (r: ExecResult) => void; reject: (e: Error) => void };
    const done = new Promise<ExecResult>((resolve, reject) => (settle = { resolve, reject }));
    done.catch(() => undefined);
    let cut = false;
    child.stdout.on('data', (data: Buffer) => !cut && options.onStdout(data));
    child.stderr.on('data', (data: Buffer) => !cut && options.onStderr?.(data));
    child.stdin.on('error', () => undefined);
    child.on('close', (code) => settle.resolve({ exitCode: code ?? -1, message: undefined }));
    const drop = (stdinCloses: boolean) => {
      cut = true;
      if (stdinCloses) child.stdin.end();
      settle.reject(new ExecError('exec in ns/p1 ended without an exit status (socket closed, code 1006)', 'NH_EXEC_LOST'));
    };
    const channel: ExecChannel = {
      protocol: 'v5.channel.k8s.io',
      done,
      write: async (data) => void child.stdin.write(data),
      closeStdin: () => child.stdin.end(),
      terminate: () => drop(true),
      resize: () => undefined,
    };
    execs.push({ command, child, cut: drop });
    return channel;
  };
  return {
    exec,
    execs,
    refuseNext(count: number) {
      refusals = count;
    },
    /** Ends every process still running (a test's cleanup). */
    cleanUp() {
      for (const e of execs) e.child.stdin.end();
    },
  };
}
