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

export class PodSession {
  private nextRequestId = 0;

  private constructor(
    readonly target: PodRef,
    private readonly spdy: SpdySession,
  ) {}

  /** Rejects with UpgradeRefusedError when the API server does not take SPDY for it, else any other failure. */
  static async open(endpoint: ExecEndpoint, target: PodRef, onClose?: (error: Error | undefined) => void): Promise<PodSession> {
    const socket = await upgradeToSpdy(endpoint, target);
    try {
      return await PodSession.over(socket, target, onClose);
    } catch (error) {
      socket.destroy();
      throw error;
    }
  }

  /** The session over a connection already upgraded to SPDY (any Duplex). */
  static async over(transport: Duplex, target: PodRef, onClose?: (error: Error | undefined) => void): Promise<PodSession> {
    return new PodSession(target, await SpdySession.start(transport, { onClose }));
  }

  /** False once the session ended or is going away: new connections need a new session. */
  get usable(): boolean {
    return this.spdy.usable;
  }

  close(): void {
    this.spdy.close();
  }

  /**
   * Carries `socket` to the pod's `port` until either side is done. Resolves when the local socket is closed;
   * never rejects (failures go to onFailure), like pipeThroughTunnel.
   */
  pipe(port: number, socket: Socket, options: OpenTunnelOptions = {}): Promise<void> {
    socket.on('error', () => undefined);
    const requestId = String(this.nextRequestId++);
    const headers = (type: 'error' | 'data') => new Map([['streamtype', type], ['port', String(port)], ['requestid', requestId]]);
    let errorStream: SpdyStream;
    let dataStream: SpdyStream;
    try {
      errorStream = this.spdy.openStream(headers('error'));
      dataStream = this.spdy.openStream(headers('data'));
    } catch (error) {
      options.onFailure?.({ kind: 'tunnel', message: (error as Error).message });
      socket.destroy();
      return Promise.resolve();
    }
    // client-go closes its side of the error stream at once: only the kubelet writes on it.
    errorStream.end();
    return new Promise<void>((resolve) => {
      let errorText = '';
      let reported = false;
      const report = (failure: TunnelFailure) => {
        if (reported || options.signal?.aborted || socket.destroyed) return;
        reported = true;
        options.onFailure?.(failure);
      };
      let finished = false;
      const finish = () => {
        if (finished) return;
        finished = true;
        options.signal?.removeEventListener('abort', finish);
        errorStream.destroy();
        dataStream.destroy();
        socket.destroy();
        resolve();
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

      dataStream.on('data', towardsLocal(socket, dataStream, options.onAnswer));
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
