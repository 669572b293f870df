/**
 * One TCP connection to a pod's port over the API server's port-forward WebSocket (`v4.channel.k8s.io`,
 * the protocol the kubelet speaks). Written here instead of using @kubernetes/client-node's PortForward,
 * which loses the error channel's text, leaves the local socket hanging when the pod goes away, crashes
 * the process on a local RST and never pings (../shared/reference/client-node.md §3).
 *
 * Protocol: channel 0 carries data, channel 1 the kubelet's error text for the port; the first message
 * on each channel from the server is the port number (uint16, little endian), which is not data.
 */
import type { RequestOptions } from 'node:https';
import type { Socket } from 'node:net';
import type { WebSocket as WsSocket } from 'ws';
import { HANDSHAKE_TIMEOUT_MS, type ExecEndpoint } from '../kube/exec.js';
import { statusMessageSuffix } from '../kube/status-message.js';

export interface TunnelTarget {
  readonly namespace: string;
  readonly pod: string;
  readonly port: number;
}

/** Why a tunnel ended without the local side closing it. */
export type TunnelFailure =
  /** The API server or kubelet refused or dropped the tunnel (pod gone, no access, network). */
  | { readonly kind: 'tunnel'; readonly message: string }
  /** The tunnel reached the pod, but nothing accepts connections on the port there. */
  | { readonly kind: 'refused'; readonly message: string };

const DATA = 0;
const ERROR = 1;
/** Local reads pause while more than this is queued for the WebSocket. */
const HIGH_WATER_BYTES = 1024 * 1024;
const PING_MS = 10_000;

export function portForwardUrl(server: string, target: TunnelTarget): string {
  const base = server.replace(/\/+$/, '').replace(/^http/, 'ws');
  return `${base}/api/v1/namespaces/${encodeURIComponent(target.namespace)}/pods/${encodeURIComponent(target.pod)}/portforward?ports=${target.port}`;
}

/** The kubelet reports a failed dial inside the pod as text on the error channel; this tells which. */
export function classifyErrorText(text: string): TunnelFailure {
  return /connection refused/i.test(text)
    ? { kind: 'refused', message: 'nothing accepts connections on the port in the pod' }
    : { kind: 'tunnel', message: text.trim().split('\n')[0]!.slice(0, 300) };
}

export interface OpenTunnelOptions {
  readonly signal?: AbortSignal;
  /** Called once when the tunnel ends for a reason other than the local socket closing or the abort. */
  readonly onFailure?: (failure: TunnelFailure) => void;
  /** Called once when the first bytes come back from the pod: the app there answers. */
  readonly onAnswer?: () => void;
  /** Called when the tunnel is open (the API server and the kubelet took it). */
  readonly onOpen?: () => void;
}

/**
 * Pipes `socket` through a new tunnel until either side ends. Resolves when both are closed; never
 * rejects (failures go to onFailure), so a caller inside a net.Server callback cannot leak a rejection.
 */
export async function pipeThroughTunnel(endpoint: ExecEndpoint, target: TunnelTarget, socket: Socket, options: OpenTunnelOptions = {}): Promise<void> {
  // An RST from the local client must not crash nh; its close is handled below.
  socket.on('error', () => undefined);
  socket.pause();
  let ws: WsSocket;
  try {
    ws = await openTunnelSocket(endpoint, target);
  } catch (error) {
    options.onFailure?.({ kind: 'tunnel', message: (error as Error).message });
    socket.destroy();
    return;
  }
  // Every listener is attached before the socket can open: the port headers arrive right after the upgrade.
  await new Promise<void>((resolve) => {
    let reported = false;
    const report = (failure: TunnelFailure) => {
      if (reported || options.signal?.aborted || socket.destroyed) return;
      reported = true;
      options.onFailure?.(failure);
    };
    const ping = setInterval(() => ws.readyState === ws.OPEN && ws.ping(), PING_MS);
    ping.unref();
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      clearInterval(ping);
      options.signal?.removeEventListener('abort', finish);
      socket.destroy();
      if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) ws.terminate();
      resolve();
    };
    onTunnelEvents(ws, target, {
      data: towardsLocal(socket, ws, options.onAnswer),
      end(failure) {
        if (failure) report(failure);
        finish();
      },
    });
    // Only now, with the socket's error listener on: terminating one that is still connecting emits an error,
    // and the session's end (Ctrl-C) can come while the tunnel was being opened.
    options.signal?.addEventListener('abort', finish, { once: true });
    if (options.signal?.aborted) return finish();
    // The legacy protocol has no half-close: the local end ending ends the tunnel.
    socket.on('end', finish);
    socket.on('close', finish);
    ws.on('open', () => {
      options.onOpen?.();
      let waitingForRoom = false;
      socket.on('data', (chunk: Buffer) => {
        const frame = Buffer.allocUnsafe(chunk.length + 1);
        frame[0] = DATA;
        chunk.copy(frame, 1);
        ws.send(frame);
        if (ws.bufferedAmount > HIGH_WATER_BYTES && !waitingForRoom) {
          // ws has no 'drain' event: poll the queue until it is half empty.
          waitingForRoom = true;
          socket.pause();
          const poll = setInterval(() => {
            if (ws.bufferedAmount > HIGH_WATER_BYTES / 2 && ws.readyState === ws.OPEN) return;
            clearInterval(poll);
            waitingForRoom = false;
            socket.resume();
          }, 2);
        }
      });
      socket.resume();
    });
  });
}

/** Writes the pod's bytes to the local socket: the first ones say the app answers; a full socket pauses the source. */
export function towardsLocal(socket: Socket, source: { pause(): void; resume(): void }, onAnswer?: () => void): (chunk: Buffer) => void {
  let answered = false;
  return (chunk) => {
    if (!answered) {
      answered = true;
      onAnswer?.();
    }
    if (!socket.write(chunk)) {
      source.pause();
      socket.once('drain', () => source.resume());
    }
  };
}

/**
 * Opens a tunnel without sending anything and tells whether the pod's port accepts connections: the
 * kubelet dials the port as soon as the tunnel opens and reports a refused dial on the error channel.
 */
export async function probeTunnel(endpoint: ExecEndpoint, target: TunnelTarget, quietMs = 150): Promise<TunnelFailure | undefined> {
  let ws: WsSocket;
  try {
    ws = await openTunnelSocket(endpoint, target);
  } catch (error) {
    return { kind: 'tunnel', message: (error as Error).message };
  }
  return new Promise((resolve) => {
    let quiet: NodeJS.Timeout | undefined;
    const settle = (failure: TunnelFailure | undefined) => {
      clearTimeout(quiet);
      ws.removeAllListeners('open');
      if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) ws.terminate();
      resolve(failure);
    };
    onTunnelEvents(ws, target, { data: () => undefined, end: (failure) => settle(failure ?? { kind: 'tunnel', message: 'the tunnel closed at once' }) });
    ws.on('open', () => (quiet = setTimeout(() => settle(undefined), quietMs)));
  });
}

/** Resolves with the socket right after constructing it, so listeners attach before any message can arrive. */
async function openTunnelSocket(endpoint: ExecEndpoint, target: TunnelTarget): Promise<WsSocket> {
  const { WebSocket } = await import('ws');
  const requestOptions: RequestOptions = {};
  await endpoint.applyToHTTPSOptions(requestOptions);
  return new WebSocket(portForwardUrl(endpoint.server, target), ['v4.channel.k8s.io'], { ...requestOptions, perMessageDeflate: false, handshakeTimeout: HANDSHAKE_TIMEOUT_MS });
}

interface TunnelEvents {
  readonly data: (payload: Buffer) => void;
  /** Once: the tunnel is gone; with the reason when it failed. */
  readonly end: (failure: TunnelFailure | undefined) => void;
}

/** Decodes the channels and turns the socket's endings into one `end` call. */
function onTunnelEvents(ws: WsSocket, target: TunnelTarget, events: TunnelEvents): void {
  const seenPortHeader = [false, false];
  let errorText = '';
  let ended = false;
  const end = (failure: TunnelFailure | undefined) => {
    if (ended) return;
    ended = true;
    events.end(failure);
  };
  ws.on('unexpected-response', (_request, response) => {
    let body = '';
    response.setEncoding('utf8');
    response.on('data', (chunk: string) => (body += chunk.slice(0, 2048)));
    response.on('end', () => end({ kind: 'tunnel', message: `port-forward to ${target.pod}:${target.port} refused (HTTP ${response.statusCode ?? 0})${statusMessageSuffix(body)}` }));
  });
  ws.on('error', (error) => end({ kind: 'tunnel', message: error.message }));
  ws.on('message', (data: Buffer) => {
    const channel = data[0];
    if (channel !== DATA && channel !== ERROR) return;
    let payload = data.subarray(1);
    if (!seenPortHeader[channel]) {
      seenPortHeader[channel] = true;
      payload = payload.subarray(2);
    }
    if (payload.length === 0) return;
    if (channel === DATA) events.data(payload);
    else {
      errorText += payload.toString('utf8');
      // The kubelet closes right after the text; report it without waiting for the close.
      end(classifyErrorText(errorText));
    }
  });
  ws.on('close', (code) => end(code === 1000 || code === 1005 ? undefined : { kind: 'tunnel', message: `the tunnel closed (code ${code})` }));
}
