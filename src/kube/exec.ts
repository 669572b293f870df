/**
 * A command run in a container over the API server's exec WebSocket, written here instead of using
 * @kubernetes/client-node's Exec, which buffers all of stdin in memory (no backpressure), cuts the
 * process off when stdin ends on protocols before v5, never pings, and loses errors after the upgrade.
 *
 * Channel protocol (v4/v5.channel.k8s.io): every message starts with a channel byte: 0 stdin, 1 stdout,
 * 2 stderr, 3 status (a JSON V1Status; the process ended), 255 close (v5 only: `[255, 0]` ends stdin).
 */
import type { RequestOptions } from 'node:https';
import type { WebSocket as WsSocket } from 'ws';
import { NhError } from '../errors.js';

/** What opening an exec needs from the kubeconfig: the server and its TLS/auth options. */
export interface ExecEndpoint {
  readonly server: string;
  /** Fills in ca/cert/key/headers as KubeConfig.applyToHTTPSOptions does (exec-auth plugins included). */
  applyToHTTPSOptions(options: RequestOptions): Promise<void>;
}

export interface ExecTarget {
  readonly namespace: string;
  readonly pod: string;
  readonly container: string | undefined;
}

export interface ExecOptions {
  readonly stdin: boolean;
  /** A terminal for the process (interactive shells): stderr then arrives merged into stdout. */
  readonly tty?: boolean;
  readonly onStdout: (data: Buffer) => void;
  readonly onStderr?: (data: Buffer) => void;
  /** Aborting terminates the socket; the remote process is left to see its stdin close. */
  readonly signal?: AbortSignal;
  /** Bytes queued in the socket above which write() waits (default 4 MiB). */
  readonly highWaterBytes?: number;
  /** Ping period; no pong within three periods ends the channel (default 2 s). */
  readonly keepaliveMs?: number;
}

export interface ExecResult {
  readonly exitCode: number;
  /** The status message for a failure that was not an exit code (e.g. the container is gone). */
  readonly message: string | undefined;
}

export interface ExecChannel {
  readonly protocol: 'v5.channel.k8s.io' | 'v4.channel.k8s.io';
  /** Sends bytes to the process's stdin (copied: `data` may change once it returns); resolves when the socket has room for more. */
  write(data: Uint8Array): Promise<void>;
  /** Ends stdin and lets the process finish (v5); on v4 the socket is closed, cutting the process off. */
  closeStdin(): void;
  /** Resolves with the exit code once the process ends; rejects when the socket dies without a status. */
  readonly done: Promise<ExecResult>;
  /** Drops the connection at once. */
  terminate(): void;
  /** Tells the process's terminal its size (with `tty`). */
  resize(columns: number, rows: number): void;
}

const PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io'] as const;
/**
 * Short, so a connection whose packets are dropped (Wi-Fi gone, a dead route) is given up within seconds
 * and a fresh one is tried: waiting on the old one costs the TCP retransmission backoff after the network
 * is back (≈ 10 s after a 30 s outage).
 */
const DEFAULT_KEEPALIVE_MS = 2_000;
/** A connect and upgrade that takes longer is given up and tried again (its SYNs back off too). */
export const HANDSHAKE_TIMEOUT_MS = 5_000;
const STDIN = 0;
const STDOUT = 1;
const STDERR = 2;
const STATUS = 3;
const RESIZE = 4;
const CLOSE = 255;

interface Status {
  readonly status?: string;
  readonly code?: number;
  readonly message?: string;
  readonly reason?: string;
  readonly details?: { readonly causes?: readonly { readonly reason?: string; readonly message?: string }[] };
}

export function execUrl(server: string, target: ExecTarget, command: readonly string[], stdin: boolean, tty = false): string {
  // With a terminal the API server refuses a separate stderr stream.
  const query = new URLSearchParams({ stdin: String(stdin), stdout: 'true', stderr: String(!tty), tty: String(tty) });
  if (target.container) query.set('container', target.container);
  for (const word of command) query.append('command', word);
  const base = server.replace(/\/+$/, '').replace(/^http/, 'ws');
  return `${base}/api/v1/namespaces/${encodeURIComponent(target.namespace)}/pods/${encodeURIComponent(target.pod)}/exec?${query.toString()}`;
}

/**
 * A failure on the way to the process, reported after the upgrade: the kubelet or the container runtime
 * unreachable (`Internal error occurred: error sending request: … connection refused`), HTTP 5xx, no exit code.
 */
export function isServerFailure(status: Status): boolean {
  return status.status === 'Failure' && (status.code ?? 0) >= 500 && !status.details?.causes?.some((c) => c.reason === 'ExitCode');
}

/** The exit code a channel-3 status carries: 0 on Success, the ExitCode cause on NonZeroExitCode, else -1. */
export function exitCodeOf(status: Status): ExecResult {
  if (status.status === 'Success') return { exitCode: 0, message: undefined };
  const cause = status.details?.causes?.find((c) => c.reason === 'ExitCode');
  const code = Number(cause?.message);
  return Number.isInteger(code) && cause ? { exitCode: code, message: undefined } : { exitCode: -1, message: status.message ?? status.reason ?? 'exec failed' };
}

/**
 * Stdin frames (the channel byte, then the data) of large writes, reused once the socket has sent them. A put
 * streams megabytes in writes of 1 MiB: a fresh frame per write left garbage as large as the put, freed only
 * at V8's next full GC and then kept by malloc (nh's RSS grew by 30–50 MiB on a 24 MiB put).
 */
const POOLED_FRAME_BYTES = 1024 * 1024 + 1;
/** Below this a frame is cheap: Node's slab or a small malloc. */
const MIN_POOLED_FRAME_BYTES = 64 * 1024;
/** About what a put has in flight (the default 4 MiB the socket may hold, and the frame over it); more are left to the GC. */
const POOLED_FRAMES = 6;
const framePool: Buffer[] = [];

function takeFrame(bytes: number): Buffer {
  if (bytes < MIN_POOLED_FRAME_BYTES || bytes > POOLED_FRAME_BYTES) return Buffer.allocUnsafe(bytes);
  return framePool.pop() ?? Buffer.allocUnsafe(POOLED_FRAME_BYTES);
}

/** Called once the socket is done with the frame (sent, or failed). */
function releaseFrame(frame: Buffer): void {
  if (frame.length === POOLED_FRAME_BYTES && framePool.length < POOLED_FRAMES) framePool.push(frame);
}

/** Opens the exec; resolves once the process runs and its stdin accepts bytes. */
export async function openExec(endpoint: ExecEndpoint, target: ExecTarget, command: readonly string[], options: ExecOptions): Promise<ExecChannel> {
  const { WebSocket } = await import('ws');
  const requestOptions: RequestOptions = {};
  await endpoint.applyToHTTPSOptions(requestOptions);
  const highWater = options.highWaterBytes ?? 4 * 1024 * 1024;
  const keepaliveMs = options.keepaliveMs ?? DEFAULT_KEEPALIVE_MS;
  const url = execUrl(endpoint.server, target, command, options.stdin, options.tty);
  const where = `${target.namespace}/${target.pod}${target.container ? `/${target.container}` : ''}`;
  const ws: WsSocket = new WebSocket(url, [...PROTOCOLS], {
    ...requestOptions,
    perMessageDeflate: false,
    handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
    // An all-zero mask lets ws skip XOR-ing every byte sent. Masking guards browsers against proxy cache
    // poisoning; this connection is TLS to the API server, and the server accepts any key.
    generateMask: (mask: Buffer) => mask.fill(0),
  });

  return new Promise<ExecChannel>((resolveOpen, rejectOpen) => {
    let opened = false;
    let status: ExecResult | undefined;
    let settle: { resolve: (r: ExecResult) => void; reject: (e: Error) => void } | undefined;
    const done = new Promise<ExecResult>((resolve, reject) => (settle = { resolve, reject }));
    // A caller that never awaits `done` must not get an unhandled rejection.
    done.catch(() => undefined);
    let failure: Error | undefined;
    let lastPong = Date.now();
    let lastTick = Date.now();
    let drainWaiters: (() => void)[] = [];

    const fail = (error: Error) => {
      failure ??= error;
      if (!opened) rejectOpen(error);
    };
    const onAbort = () => {
      fail(new ExecError(`exec in ${where} aborted`, 'NH_EXEC_ABORTED'));
      ws.terminate();
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    if (options.signal?.aborted) onAbort();

    const keepalive = setInterval(() => {
      const now = Date.now();
      // A late tick means nh itself did not run (SIGSTOP, a sleeping laptop, a blocked loop): the missing
      // pongs say nothing about the connection, so it gets three fresh periods to answer.
      if (now - lastTick > 2 * keepaliveMs) lastPong = now;
      lastTick = now;
      if (now - lastPong > 3 * keepaliveMs) {
        fail(new ExecError(`exec in ${where}: no answer to pings for ${(3 * keepaliveMs) / 1000} s`, 'NH_EXEC_LOST'));
        ws.terminate();
        return;
      }
      if (ws.readyState === ws.OPEN) ws.ping();
    }, keepaliveMs);
    keepalive.unref();
    // ws has no 'drain' event; poll the queue while someone waits for room.
    const drainTimer = setInterval(() => {
      if (drainWaiters.length === 0 || (ws.bufferedAmount > highWater / 2 && ws.readyState === ws.OPEN)) return;
      const waiters = drainWaiters;
      drainWaiters = [];
      for (const wake of waiters) wake();
    }, 2);
    drainTimer.unref();

    ws.on('pong', () => (lastPong = Date.now()));
    ws.on('unexpected-response', (_request, response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk.slice(0, 4096)));
      response.on('end', () => {
        fail(upgradeError(where, response.statusCode ?? 0, body));
        ws.terminate();
      });
    });
    ws.on('error', (error) => fail(new ExecError(`exec in ${where} failed: ${error.message}`, 'NH_EXEC_LOST', error)));
    ws.on('message', (data: Buffer) => {
      const channel = data[0];
      const payload = data.subarray(1);
      if (channel === STDOUT) options.onStdout(payload);
      else if (channel === STDERR) options.onStderr?.(payload);
      else if (channel === STATUS) {
        try {
          const parsed = JSON.parse(payload.toString('utf8')) as Status;
          if (isServerFailure(parsed)) fail(new ExecError(`exec in ${where} failed: ${parsed.message ?? parsed.code}`, 'NH_EXEC_REFUSED', undefined, undefined, parsed.code));
          else status = exitCodeOf(parsed);
        } catch (error) {
          fail(new ExecError(`exec in ${where}: unreadable status`, 'NH_EXEC_LOST', error));
        }
      }
      // Channel 255 and unknown channels carry nothing for us.
    });
    ws.on('close', (code) => {
      clearInterval(keepalive);
      clearInterval(drainTimer);
      options.signal?.removeEventListener('abort', onAbort);
      for (const wake of drainWaiters) wake();
      drainWaiters = [];
      if (status) settle?.resolve(status);
      else {
        const error = failure ?? new ExecError(`exec in ${where} ended without an exit status (socket closed, code ${code})`, 'NH_EXEC_LOST');
        fail(error);
        settle?.reject(error);
      }
    });
    ws.on('open', () => {
      opened = true;
      const protocol = ws.protocol === 'v5.channel.k8s.io' ? 'v5.channel.k8s.io' : 'v4.channel.k8s.io';
      resolveOpen({
        protocol,
        done,
        async write(data) {
          if (failure) throw failure;
          if (ws.readyState !== ws.OPEN) throw new ExecError(`exec in ${where}: the connection is closed`, 'NH_EXEC_LOST');
          const frame = takeFrame(data.length + 1);
          frame[0] = STDIN;
          frame.set(data, 1);
          ws.send(frame.subarray(0, data.length + 1), () => releaseFrame(frame));
          if (ws.bufferedAmount > highWater) await new Promise<void>((wake) => drainWaiters.push(wake));
          // The socket may have died while we waited (TS cannot see the callbacks assign it).
          const failedMeanwhile = failure as Error | undefined;
          if (failedMeanwhile) throw failedMeanwhile;
        },
        closeStdin() {
          if (protocol === 'v5.channel.k8s.io') ws.send(Buffer.from([CLOSE, STDIN]));
          else ws.close();
        },
        terminate: () => ws.terminate(),
        resize(columns, rows) {
          if (ws.readyState !== ws.OPEN) return;
          ws.send(Buffer.concat([Buffer.from([RESIZE]), Buffer.from(JSON.stringify({ Width: columns, Height: rows }))]));
        },
      });
    });
  });
}

export class ExecError extends NhError {
  constructor(
    message: string,
    code: 'NH_EXEC_LOST' | 'NH_EXEC_ABORTED' | 'NH_EXEC_REFUSED',
    cause?: unknown,
    hint?: string,
    /** The HTTP status of a refused upgrade. */
    readonly status?: number,
  ) {
    super(code, message, { cause, hint: hint ?? 'check that the pod is running: `kubectl get pod`; nh reconnects when it is back' });
    this.name = 'ExecError';
  }
}

function upgradeError(where: string, statusCode: number, body: string): ExecError {
  let message = body.trim();
  try {
    message = (JSON.parse(body) as Status).message ?? message;
  } catch {
    // not a Status: keep the raw text
  }
  const hint =
    statusCode === 403
      ? 'you need `create` on `pods/exec` in this namespace: `kubectl auth can-i create pods/exec`'
      : statusCode === 404
        ? 'the pod is gone; nh looks for the new one when it reconnects'
        : undefined;
  return new ExecError(`exec in ${where} refused (HTTP ${statusCode})${message ? `: ${message}` : ''}`, 'NH_EXEC_REFUSED', undefined, hint, statusCode);
}
