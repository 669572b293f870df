/** Short commands in a container (stop a process group, read a socket table): run, wait, collect stdout. */
import { openExec, type ExecChannel, type ExecEndpoint, type ExecOptions, type ExecTarget } from './exec.js';

/** openExec's shape, so tests and the supervisor can pass their own. */
export type OpenExec = (endpoint: ExecEndpoint, target: ExecTarget, command: readonly string[], options: ExecOptions) => Promise<ExecChannel>;

export interface CommandOutput {
  readonly exitCode: number;
  readonly stdout: string;
}

/** Runs a command with no stdin and waits for it to end; rejects when the exec cannot be opened or is lost. */
export async function runToEnd(endpoint: ExecEndpoint, target: ExecTarget, command: readonly string[], exec: OpenExec = openExec, signal?: AbortSignal): Promise<CommandOutput> {
  const chunks: Buffer[] = [];
  const channel = await exec(endpoint, target, command, { stdin: false, onStdout: (data) => chunks.push(Buffer.from(data)), ...(signal ? { signal } : {}) });
  const result = await channel.done;
  return { exitCode: result.exitCode, stdout: Buffer.concat(chunks).toString('utf8') };
}
