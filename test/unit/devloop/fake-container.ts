// A container behind a fake exec, for the supervisor and dev loop tests: the run, stop and check commands of
// process-supervisor.ts, answered as the test says.
import type { ExecChannel, ExecResult } from '../../../src/kube/exec.js';
import { ExecError } from '../../../src/kube/exec.js';
import type { OpenExec } from '../../../src/kube/run-command.js';

/**
 * A fake container behind a fake exec: each run is a channel the test ends; stops answer from `stopAnswers`,
 * checks of the watchdog's mark from `checkAnswers` (default: the process exited by itself).
 */
export function fakeContainer(stopAnswers: (Error | 'stopped' | 'none')[], checkAnswers: (Error | 'cut' | 'exited')[] = []) {
  const runs: { resolve: (r: ExecResult) => void; reject: (e: Error) => void }[] = [];
  const exec: OpenExec = async (_endpoint, _target, command, options) => {
    const kind = command[3];
    let settle!: { resolve: (r: ExecResult) => void; reject: (e: Error) => void };
    const done = new Promise<ExecResult>((resolve, reject) => (settle = { resolve, reject }));
    done.catch(() => undefined);
    const channel: ExecChannel = { protocol: 'v5.channel.k8s.io', done, write: async () => undefined, closeStdin: () => undefined, terminate: () => settle.reject(new ExecError('terminated', 'NH_EXEC_LOST')), resize: () => undefined };
    if (kind === 'nh-check') {
      const answer = checkAnswers.shift() ?? 'exited';
      if (answer instanceof Error) throw answer;
      options.onStdout(Buffer.from(`${answer}\n`));
      settle.resolve({ exitCode: 0, message: undefined });
    } else if (kind === 'nh-stop') {
      const answer = stopAnswers.shift() ?? 'none';
      if (answer instanceof Error) throw answer;
      options.onStdout(Buffer.from(`${answer}\n`));
      settle.resolve({ exitCode: 0, message: undefined });
      // The group is gone: its run exec ends as the kubelet ends it.
      for (const run of runs) run.resolve({ exitCode: 143, message: undefined });
    } else {
      runs.push(settle);
    }
    return channel;
  };
  return { exec, runs };
}

