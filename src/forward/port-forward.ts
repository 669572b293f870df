/**
 * A local port on 127.0.0.1 forwarded to a port of whatever pod the tracker currently names: each local
 * connection is carried to the pod of that moment (a stream pair on the pod's SPDY session, tunnel-pool.ts),
 * so a replaced pod is used as soon as the new one is ready (connections arriving in between wait for it).
 * Each connection's outcome, and a look at the pod's socket table every 10 s (and while a restarted app
 * starts), tell "tunnel down" from "app not listening".
 */
import type { Server, Socket } from 'node:net';
import { NhError } from '../errors.js';
import type { ExecEndpoint } from '../kube/exec.js';
import type { PodTracker, TrackedPod } from '../kube/pod-tracker.js';
import { findPortHolder, type PortHolder } from './port-holder.js';
import { probeListening } from './listening-probe.js';
import type { TunnelFailure } from './tunnel.js';
import { TunnelPool } from './tunnel-pool.js';

export type ForwardState =
  | { readonly kind: 'waiting-for-pod' }
  | { readonly kind: 'ok'; readonly pod: string }
  | { readonly kind: 'app-not-listening'; readonly pod: string }
  | { readonly kind: 'tunnel-down'; readonly pod: string | undefined; readonly message: string };

export interface PortForwardOptions {
  readonly endpoint: ExecEndpoint;
  readonly pods: PodTracker;
  readonly local: number;
  readonly remote: number;
  readonly signal: AbortSignal;
  readonly onState?: (state: ForwardState) => void;
  /** How often the pod is asked whether the app listens, when no connection told (default 10 s). */
  readonly probeEveryMs?: number;
  /** Sessions shared with the service's other forwards (one per pod); by default the forward's own. */
  readonly tunnels?: TunnelPool;
}

export interface PortForward {
  readonly local: number;
  readonly remote: number;
  state(): ForwardState;
  /**
   * For a restart of the app in the pod: closes the open connections (a graceful server waits for them
   * before it exits, and the kubelet does not pass their end on through the tunnel, so a keep-alive client
   * would wait on them) and holds new ones until release(), when they go to the new process.
   */
  hold(): void;
  /** Ends hold(), and probes the app a few times until it answers (it is starting). */
  release(): void;
  /** Resolves once the listener is closed and every tunnel is gone (after the signal aborts). */
  readonly closed: Promise<void>;
}

const DEFAULT_PROBE_MS = 10_000;
const STARTUP_PROBE_WAITS_MS = [300, 700, 1_000, 2_000, 4_000];

export class PortInUseError extends NhError {
  constructor(
    readonly port: number,
    readonly holder: PortHolder | undefined,
  ) {
    const who = holder ? ` by ${holder.command} (pid ${holder.pid})` : '';
    super('NH_PORT_IN_USE', `local port ${port} is already in use${who}`, {
      hint: holder
        ? `stop that process (\`kill ${holder.pid}\`) or change the local side of the portForward "${port}:…" in the config`
        : `find the process with \`ss -ltnp 'sport = :${port}'\`, or change the local side of the portForward "${port}:…" in the config`,
    });
    this.name = 'PortInUseError';
  }
}

/** Resolves once 127.0.0.1:local accepts connections; throws PortInUseError when it is taken. */
export async function startPortForward(options: PortForwardOptions): Promise<PortForward> {
  const net = await import('node:net');
  const { endpoint, pods, local, remote, signal } = options;
  const tunnels = options.tunnels ?? new TunnelPool(endpoint, signal);
  let state: ForwardState = pods.current() ? { kind: 'ok', pod: pods.current()!.name } : { kind: 'waiting-for-pod' };
  const setState = (next: ForwardState) => {
    if (JSON.stringify(next) === JSON.stringify(state)) return;
    state = next;
    options.onState?.(next);
  };
  const fromFailure = (pod: string | undefined, failure: TunnelFailure | undefined): ForwardState =>
    failure === undefined
      ? { kind: 'ok', pod: pod! }
      : failure.kind === 'refused'
        ? { kind: 'app-not-listening', pod: pod! }
        : { kind: 'tunnel-down', pod, message: failure.message };

  /** Open local connections, with the uid of the pod each is tunnelled to (once known). */
  const sockets = new Map<Socket, string | undefined>();
  /** Resolved, except while the app in the pod restarts (hold/release). */
  let held = Promise.resolve();
  let releaseHeld: (() => void) | undefined;
  const connections = new Set<Promise<void>>();
  // Half-open: a client that ends its side still gets the rest of the pod's answer.
  const server: Server = net.createServer({ allowHalfOpen: true }, (socket) => {
    sockets.set(socket, undefined);
    const connection = (async () => {
      let pod: TrackedPod;
      try {
        await held;
        pod = await pods.nextPod(signal);
      } catch {
        socket.destroy();
        return;
      }
      sockets.set(socket, pod.uid);
      await tunnels.pipe({ namespace: pods.namespace, pod: pod.name, port: remote }, socket, {
        signal,
        onFailure: (failure) => setState(fromFailure(pod.name, failure)),
        onAnswer: () => setState({ kind: 'ok', pod: pod.name }),
      });
    })().finally(() => {
      sockets.delete(socket);
      connections.delete(connection);
    });
    connections.add(connection);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      reject(error.code === 'EADDRINUSE' ? new PortInUseError(local, findPortHolder(local)) : new NhError('NH_PORT_IN_USE', `cannot listen on 127.0.0.1:${local}: ${error.message}`, { cause: error }));
    });
    server.listen({ port: local, host: '127.0.0.1', exclusive: true }, resolve);
  });
  server.on('error', () => undefined);

  let probing = false;
  const probe = async () => {
    if (probing || signal.aborted || releaseHeld) return;
    probing = true;
    try {
      const pod = pods.current();
      if (!pod) return setState({ kind: 'waiting-for-pod' });
      const failure = await probeListening(endpoint, { namespace: pods.namespace, pod: pod.name, port: remote });
      // The pod may have changed while probing; the next probe judges the new one.
      if (!signal.aborted && pods.current()?.uid === pod.uid) setState(fromFailure(pod.name, failure));
    } finally {
      probing = false;
    }
  };
  const unsubscribe = pods.onChange((pod) => {
    // Connections to a replaced pod would keep a keep-alive client on it (or on nothing): close them.
    if (pod) for (const [socket, uid] of sockets) if (uid !== undefined && uid !== pod.uid) socket.destroy();
    tunnels.closeExcept(pod?.name);
    void probe();
  });
  const timer = setInterval(() => void probe(), options.probeEveryMs ?? DEFAULT_PROBE_MS);
  void probe();

  const closed = new Promise<void>((resolve) => {
    const close = () => {
      clearInterval(timer);
      unsubscribe();
      for (const socket of sockets.keys()) socket.destroy();
      server.close(() => void Promise.allSettled([...connections]).then(() => resolve()));
    };
    if (signal.aborted) close();
    else signal.addEventListener('abort', close, { once: true });
  });
  const hold = () => {
    if (!releaseHeld) held = new Promise<void>((resolve) => (releaseHeld = resolve));
    for (const socket of sockets.keys()) socket.destroy();
  };
  const release = () => {
    releaseHeld?.();
    releaseHeld = undefined;
    void probeWhileStarting();
  };
  /** Probes at growing intervals until the app answers: the status shows it up without waiting for the next round. */
  const probeWhileStarting = async () => {
    for (const wait of STARTUP_PROBE_WAITS_MS) {
      await new Promise((resolve) => setTimeout(resolve, wait).unref());
      if (signal.aborted || releaseHeld) return;
      await probe();
      if (state.kind === 'ok') return;
    }
  };
  signal.addEventListener('abort', release, { once: true });
  return { local, remote, state: () => state, hold, release, closed };
}

/** A short phrase for status lines: `18080→8080 ok`, `18080→8080 app not listening`. */
export function describeForwardState(state: ForwardState): string {
  switch (state.kind) {
    case 'ok':
      return 'ok';
    case 'waiting-for-pod':
      return 'waiting for pod';
    case 'app-not-listening':
      return 'app not listening';
    case 'tunnel-down':
      return 'tunnel down';
  }
}
