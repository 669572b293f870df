/**
 * Where a forward's local connections go: one SPDY session per pod, opened on the first connection and shared
 * by every connection (and every forward given the same pool) to that pod until the pod is no longer current
 * or the session dies, when the next connection opens a new one. When the API server refuses the SPDY upgrade
 * (a proxy in front of it that passes only WebSockets) and the per-connection WebSocket tunnel works instead,
 * the pool uses that tunnel from then on.
 */
import { setMaxListeners } from 'node:events';
import type { Socket } from 'node:net';
import type { ExecEndpoint } from '../kube/exec.js';
import { PodSession } from './pod-session.js';
import { UpgradeRefusedError } from './spdy/upgrade.js';
import { pipeThroughTunnel, type OpenTunnelOptions, type TunnelTarget } from './tunnel.js';

/** Sessions one connection may try before it fails. */
const ATTEMPTS = 2;

interface SessionEntry {
  readonly opening: Promise<PodSession>;
  open?: PodSession;
}

export class TunnelPool {
  private readonly sessions = new Map<string, SessionEntry>();
  private spdyRefused = false;
  private closed = false;

  /** Closes every session when `signal` aborts. */
  constructor(
    private readonly endpoint: ExecEndpoint,
    signal: AbortSignal,
  ) {
    // Every open connection listens on it: a hundred at once is normal, not a leak.
    setMaxListeners(0, signal);
    if (signal.aborted) this.close();
    else signal.addEventListener('abort', () => this.close(), { once: true });
  }

  /** Which protocol new connections use: a SPDY session per pod, or a WebSocket per connection. */
  get protocol(): 'spdy' | 'websocket' {
    return this.spdyRefused ? 'websocket' : 'spdy';
  }

  /** Carries `socket` to the target until either side ends; never rejects (failures go to onFailure). */
  async pipe(target: TunnelTarget, socket: Socket, options: OpenTunnelOptions = {}): Promise<void> {
    socket.pause();
    // A connection the kubelet did not take on one session (stuck or gone) moves to a new one, once.
    for (let attempt = 1; ; attempt++) {
      if (this.spdyRefused || this.closed) return pipeThroughTunnel(this.endpoint, target, socket, options);
      let session: PodSession;
      try {
        session = await this.session(target);
      } catch (error) {
        if (error instanceof UpgradeRefusedError) {
          // Refused for SPDY: if a WebSocket gets through, the path takes only WebSockets.
          return pipeThroughTunnel(this.endpoint, target, socket, { ...options, onOpen: () => (this.spdyRefused = true) });
        }
        options.onFailure?.({ kind: 'tunnel', message: (error as Error).message });
        socket.destroy();
        return;
      }
      if ((await session.pipe(target.port, socket, options)) === 'ended') return;
      if (attempt === ATTEMPTS || options.signal?.aborted) {
        options.onFailure?.({ kind: 'tunnel', message: `the kubelet did not take the connection on ${ATTEMPTS} port-forward sessions in a row` });
        socket.destroy();
        return;
      }
    }
  }

  /** Closes the sessions to every pod but `keep` (the pod connections go to now). */
  closeExcept(keep: string | undefined): void {
    for (const key of [...this.sessions.keys()]) {
      if (key.split('/')[1] !== keep) this.drop(key);
    }
  }

  private close(): void {
    this.closed = true;
    for (const key of [...this.sessions.keys()]) this.drop(key);
  }

  private session(target: TunnelTarget): Promise<PodSession> {
    const key = `${target.namespace}/${target.pod}`;
    const entry = this.sessions.get(key);
    // A session still opening is shared; one that died is replaced.
    if (entry && (!entry.open || entry.open.usable)) return entry.opening;
    const next: SessionEntry = {
      opening: PodSession.open(this.endpoint, { namespace: target.namespace, pod: target.pod }, () => {
        if (this.sessions.get(key) === next) this.sessions.delete(key);
      }),
    };
    this.sessions.set(key, next);
    next.opening.then(
      (session) => (next.open = session),
      // A failed open is forgotten, so the next connection tries again.
      () => this.sessions.get(key) === next && this.sessions.delete(key),
    );
    return next.opening;
  }

  private drop(key: string): void {
    const entry = this.sessions.get(key);
    this.sessions.delete(key);
    entry?.opening.then((session) => session.close(), () => undefined);
  }
}
