/**
 * The sync agent in a dev container: one long-lived exec running AGENT_SCRIPT, asked one request at a
 * time. A save costs a request on an open channel, not a new exec (a fresh exec handshake is what
 * `kubectl cp` pays each time).
 */
import { openExec, type ExecEndpoint, type ExecTarget, type ExecChannel } from '../kube/exec.js';
import { NhError } from '../errors.js';
import { agentCommand, parseHashes, parseListing, pathList, pruneList, requestLine, ResponseReader, type AgentOp, type AgentResponse } from './agent-protocol.js';
import type { TreeEntry } from './tree.js';

/** What the sync session needs from the container; the e2e tests and the session use ContainerAgent. */
export interface SyncAgent {
  /** The tree below workDir, not entering directories with the `prune` names. */
  list(prune?: readonly string[]): Promise<TreeEntry[]>;
  hash(paths: readonly string[]): Promise<Map<string, string>>;
  remove(paths: readonly string[]): Promise<void>;
  /** Extracts a tar archive of exactly `bytes` bytes in workDir; each chunk is done with before the next is asked for. */
  put(bytes: number, archive: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<void>;
  /** Resolves (with the reason) once the channel is gone. */
  readonly lost: Promise<Error>;
  close(): Promise<void>;
}

export class SyncAgentError extends NhError {
  constructor(message: string, cause?: unknown) {
    super('NH_SYNC_FAILED', message, { cause, hint: 'check the dev container: `nh exec SERVICE` (is workDir writable? is the disk full?)' });
    this.name = 'SyncAgentError';
  }
}

export class ContainerAgent implements SyncAgent {
  private readonly reader = new ResponseReader();
  private nextId = 1;
  private queue: Promise<unknown> = Promise.resolve();
  private waiting: { id: number; resolve: (r: AgentResponse) => void; reject: (e: Error) => void } | undefined;
  private gone: Error | undefined;
  readonly lost: Promise<Error>;

  private constructor(private readonly channel: ExecChannel, greeting: { resolve: (r: AgentResponse) => void; reject: (e: Error) => void }) {
    this.waiting = { id: 0, ...greeting };
    this.lost = channel.done.then(
      (result) => new SyncAgentError(`the sync agent ended (exit ${result.exitCode}${result.message ? `: ${result.message}` : ''})`),
      (error: Error) => error,
    ).then((error) => {
      this.gone = error;
      this.waiting?.reject(error);
      this.waiting = undefined;
      return error;
    });
  }

  /** Starts the agent in workDir (created when missing) and waits for its greeting. */
  static async start(endpoint: ExecEndpoint, target: ExecTarget, workDir: string, signal?: AbortSignal): Promise<ContainerAgent> {
    let agent: ContainerAgent | undefined;
    const early: Buffer[] = [];
    const channel = await openExec(endpoint, target, agentCommand(workDir), {
      stdin: true,
      signal,
      onStdout: (data) => (agent ? agent.receive(data) : early.push(Buffer.from(data))),
      onStderr: () => undefined,
    });
    const greeted = new Promise<AgentResponse>((resolve, reject) => {
      agent = new ContainerAgent(channel, { resolve, reject });
    });
    for (const data of early) agent!.receive(data);
    const greeting = await greeted;
    if (greeting.exitCode !== 0) {
      channel.terminate();
      throw new SyncAgentError(`cannot create or enter ${workDir} in the container`);
    }
    return agent!;
  }

  async list(prune: readonly string[] = []): Promise<TreeEntry[]> {
    const payload = pruneList(prune);
    const response = await this.request('list', [payload], payload.length);
    return parseListing(response.body.toString('utf8'));
  }

  async hash(paths: readonly string[]): Promise<Map<string, string>> {
    if (paths.length === 0) return new Map();
    const payload = pathList(paths);
    // md5sum exits 1 when a file vanished meanwhile; the hashes it did print still hold.
    const response = await this.request('hash', [payload], payload.length, true);
    return parseHashes(response.body.toString('utf8'));
  }

  async remove(paths: readonly string[]): Promise<void> {
    if (paths.length === 0) return;
    const payload = pathList(paths);
    await this.request('del', [payload], payload.length);
  }

  async put(bytes: number, archive: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<void> {
    await this.request('put', archive, bytes);
  }

  async close(): Promise<void> {
    if (!this.gone) {
      await this.channel.write(requestLine('quit', 0, 0)).catch(() => undefined);
      this.channel.closeStdin();
    }
    await Promise.race([this.lost, new Promise((resolve) => setTimeout(resolve, 2_000).unref())]);
    this.channel.terminate();
  }

  private receive(data: Buffer): void {
    for (const response of this.reader.push(data)) {
      if (this.waiting?.id === response.id) {
        this.waiting.resolve(response);
        this.waiting = undefined;
      }
    }
  }

  /** Requests run one after the other: the agent is a single shell reading one stdin. */
  private request(op: AgentOp, payload: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, bytes = 0, anyExitCode = false): Promise<AgentResponse> {
    const run = async () => {
      if (this.gone) throw this.gone;
      const id = this.nextId++;
      const answered = new Promise<AgentResponse>((resolve, reject) => (this.waiting = { id, resolve, reject }));
      answered.catch(() => undefined);
      await this.channel.write(requestLine(op, id, bytes));
      let sent = 0;
      for await (const chunk of payload) {
        await this.channel.write(chunk);
        sent += chunk.length;
      }
      if (sent !== bytes) {
        // The agent would read the next request as payload: this channel cannot be trusted any more.
        this.channel.terminate();
        throw new SyncAgentError(`internal: ${op} announced ${bytes} bytes but sent ${sent}`);
      }
      const response = await answered;
      if (response.exitCode !== 0 && !anyExitCode) {
        throw new SyncAgentError(`${op} failed in the container (exit ${response.exitCode}): ${response.body.toString('utf8').trim().slice(0, 500)}`);
      }
      return response;
    };
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => undefined);
    return result;
  }
}
