/**
 * One long-lived port-forward session to one pod (SPDY/3.1, as kubectl speaks it): each local connection is
 * a pair of streams on it, not a new connection through the API server. The pair, as client-go builds it:
 * an error stream and a data stream with the headers `streamtype` (error|data), `port` and `requestid`; nh
 * never writes on the error stream, the kubelet writes there why it could not reach the port, then resets
 * both. The data stream carries the bytes both ways, with half-close: the local client ending its side sends
 * FIN and the pod's answer still comes back until the pod ends its side too.
 */
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { ExecEndpoint } from '../kube/exec.js';
import { SpdySession, type SpdyStream } from './spdy/session.js';
import { upgradeToSpdy, type PodRef } from './spdy/upgrade.js';
import { classifyErrorText, towardsLocal, type OpenTunnelOptions, type TunnelFailure } from './tunnel.js';

/**
 * How long a new stream may wait with no answer from the kubelet's worker that handles it before the session is
 * taken as stuck. A worker still answering the streams queued before it (a loaded node, many connections at once)
 * is waited for.
 */
const REPLY_TIMEOUT_MS = 2_000;

export interface PodSessionOptions {
  readonly onClose?: (error: Error | undefined) => void;
  /** How long a new stream may wait with no answer from the kubelet's worker that handles it (default 2 s). */
  readonly replyTimeoutMs?: number;
}

export class PodSession {
  private nextRequestId = 0;

  private constructor(
    readonly target: PodRef,
    private readonly spdy: SpdySession,
    private readonly replyTimeoutMs: number,
  ) {}

  /** Rejects with UpgradeRefusedError when the API server does not take SPDY for it, else any other failure. */
  static async open(endpoint: ExecEndpoint, target: PodRef, onClose?: (error: Error | undefined) => void): Promise<PodSession> {
    const socket = await upgradeToSpdy(endpoint, target);
    try {
      return await PodSession.over(socket, target, { onClose });
    } catch (error) {
      socket.destroy();
      throw error;
    }
  }

  /** The session over a connection already upgraded to SPDY (any Duplex). */
  static async over(transport: Duplex, target: PodRef, options: PodSessionOptions = {}): Promise<PodSession> {
    return new PodSession(target, await SpdySession.start(transport, { onClose: options.onClose }), options.replyTimeoutMs ?? REPLY_TIMEOUT_MS);
  }

  /** False once the session ended or is going away: new connections need a new session. */
  get usable(): boolean {
    return this.spdy.usable;
  }

  close(): void {
    this.spdy.close();
  }

  /**
   * Carries `socket` to the pod's `port` until either side is done. Resolves when the local socket is closed
   * ('ended'; failures go to onFailure), or with 'not-taken' when the kubelet did not take the stream pair (no
   * SYN_REPLY for both in time, or the session ended first): then nothing of the connection
   * reached the pod and the socket is left open, paused, for another session. Never rejects.
   */
  async pipe(port: number, socket: Socket, options: OpenTunnelOptions = {}): Promise<'ended' | 'not-taken'> {
    socket.on('error', () => undefined);
    const requestId = String(this.nextRequestId++);
    const headers = (type: 'error' | 'data') => new Map([['streamtype', type], ['port', String(port)], ['requestid', requestId]]);
    let errorStream: SpdyStream;
    let dataStream: SpdyStream;
    try {
      errorStream = this.spdy.openStream(headers('error'));
      dataStream = this.spdy.openStream(headers('data'));
    } catch {
      return 'not-taken';
    }
    // client-go closes its side of the error stream at once: only the kubelet writes on it.
    errorStream.end();
    // The local client's bytes wait for both replies, as client-go's do. The kubelet's spdystream hands each
    // stream's frames to one of five workers (by stream id), and a DATA frame blocks its worker until someone
    // reads it: sent on a stream whose pair is not complete, it would stop every stream of that worker.
    const taken = await this.taken(errorStream, dataStream, socket);
    if (taken === 'taken') return this.carry(errorStream, dataStream, socket, options);
    errorStream.destroy();
    dataStream.destroy();
    // A stuck worker there: this session takes nothing more, and what is open on it runs to its end.
    if (taken === 'late') this.spdy.retire();
    if (taken === 'local-gone') {
      socket.destroy();
      return 'ended';
    }
    if (taken === 'reset' && this.spdy.usable) {
      options.onFailure?.({ kind: 'tunnel', message: 'the kubelet refused the port-forward stream' });
      socket.destroy();
      return 'ended';
    }
    // Late, or the session went away first: the pair never started, so another session may carry the connection.
    return 'not-taken';
  }

  /** Waits for the kubelet to take both streams; 'local-gone' when the local client left or the forward stopped meanwhile. */
  private async taken(errorStream: SpdyStream, dataStream: SpdyStream, socket: Socket): Promise<'taken' | 'reset' | 'late' | 'local-gone'> {
    let timer: NodeJS.Timeout | undefined;
    let onClose: (() => void) | undefined;
    try {
      return await Promise.race([
        Promise.all([errorStream.taken, dataStream.taken]).then(([a, b]) => (a && b ? 'taken' : 'reset')),
        new Promise<'late'>((resolve) => {
          const check = () => {
            const waited = Math.max(this.spdy.unansweredFor(errorStream), this.spdy.unansweredFor(dataStream));
            if (waited >= this.replyTimeoutMs) resolve('late');
            else timer = setTimeout(check, this.replyTimeoutMs - waited);
          };
          timer = setTimeout(check, this.replyTimeoutMs);
        }),
        new Promise<'local-gone'>((resolve) => socket.once('close', (onClose = () => resolve('local-gone')))),
      ]);
    } finally {
      clearTimeout(timer);
      if (onClose) socket.off('close', onClose);
    }
  }

  /** Pipes the socket and the data stream both ways, with half-close; the kubelet's verdict comes on the error stream. */
  private carry(errorStream: SpdyStream, dataStream: SpdyStream, socket: Socket, options: OpenTunnelOptions): Promise<'ended'> {
    return new Promise((resolve) => {
      let errorText = '';
      let reported = false;
      const report = (failure: TunnelFailure) => {
        if (reported || options.signal?.aborted || socket.destroyed) return;
        reported = true;
        options.onFailure?.(failure);
      };
      let sentBytes = false;
      let answered = false;
      let finished = false;
      const finish = () => {
        if (finished) return;
        finished = true;
        // The client's bytes went out and nothing came back, or the kubelet reported an error: the pod may never
        // have read them (a refused dial), and the kubelet's worker holding them then stops every stream it
        // serves, for good. New connections go to a new session.
        if (sentBytes && (!answered || errorText)) this.spdy.retire();
        options.signal?.removeEventListener('abort', finish);
        errorStream.destroy();
        dataStream.destroy();
        socket.destroy();
        resolve('ended');
      };
      options.signal?.addEventListener('abort', finish, { once: true });
      if (options.signal?.aborted) return finish();

      // The kubelet's verdict: text on the error stream (a refused dial, a stopped container), then resets.
      const judge = () => {
        if (errorText) report(classifyErrorText(errorText));
        else if (dataStream.ending) report({ kind: 'tunnel', message: dataStream.ending.kind === 'session-lost' ? dataStream.ending.message : `the kubelet reset the port-forward stream (status ${dataStream.ending.status})` });
        finish();
      };
      errorStream.on('data', (chunk: Buffer) => (errorText += chunk.toString('utf8')));
      errorStream.on('end', () => {
        if (errorText || dataStream.readableEnded) judge();
      });
      errorStream.resume();

      dataStream.on('data', towardsLocal(socket, dataStream, () => ((answered = true), options.onAnswer?.())));
      dataStream.on('end', () => {
        // Reset: the reason is on the error stream, which the kubelet ends right after.
        if (dataStream.ending) return errorStream.readableEnded ? judge() : undefined;
        // The pod ended its side: pass that on once the local client has all of it, as client-go does.
        socket.end();
      });
      socket.on('data', (chunk: Buffer) => {
        // Once the pod has ended its side the kubelet reads no more of this stream, and a DATA frame no one reads
        // stops the kubelet's frame worker for every stream that hashes to it (spdystream), for the whole session.
        if (dataStream.remoteFin) return;
        sentBytes = true;
        if (!dataStream.write(chunk)) {
          socket.pause();
          dataStream.once('drain', () => socket.resume());
        }
      });
      socket.on('end', () => dataStream.end());
      socket.on('close', finish);
      socket.resume();
    });
  }
}
