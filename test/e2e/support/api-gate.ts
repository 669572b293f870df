// A plain-HTTP stand-in for the API server between nh and the real one, so that a test can stop nh at an
// exact point of its work: the gate logs every request (method, path) and, as the test's rule says, forwards
// it (passing the answer back) or holds it (never forwarded, never answered). nh then waits on a held request
// for as long as the test likes, so a kill lands in a known phase however fast or slow the machine is.
// nh reaches the gate through a kubeconfig of its own (http, no credentials); the gate reaches the cluster
// with the test kubeconfig's admin credentials. Upgrades (exec, port-forward) pass through untouched, and
// `endWatches` ends the open watches the way the API server does when their time is up. With `refuseSpdy`
// the gate answers SPDY upgrades with 400, as a proxy that passes only WebSockets would.
import http from 'node:http';
import https from 'node:https';
import tls from 'node:tls';
import { isIP } from 'node:net';
import type { Duplex } from 'node:stream';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { makeKubeConfig } from './cluster.js';

export interface GateRequest {
  readonly method: string;
  /** The path without its query. */
  readonly path: string;
  readonly watch: boolean;
  /** The resourceVersion a watch resumes from, if any. */
  readonly resourceVersion: string | undefined;
  /** `held` requests never reach the API server; `answered` ones had their whole answer passed back to nh. */
  state: 'held' | 'forwarded' | 'answered';
}

export interface GateOptions {
  /** Answer SPDY upgrades (port-forward) with 400, passing WebSocket ones. */
  readonly refuseSpdy?: boolean;
}

/** Decides each request as it arrives; `earlier` holds the requests that came before it. */
export type GateRule = (request: GateRequest, earlier: readonly GateRequest[]) => 'forward' | 'hold';

export class ApiGate {
  readonly requests: GateRequest[] = [];
  private readonly listeners = new Set<() => void>();
  private readonly openWatches = new Set<http.ServerResponse>();
  private readonly tunnels = new Set<Duplex>();

  private readonly server: http.Server;
  private readonly dir = mkdtempSync(join(tmpdir(), 'nh-e2e-gate-'));
  /** A kubeconfig whose only context points at the gate. */
  readonly kubeconfig = join(this.dir, 'kubeconfig');

  private constructor(rule: GateRule, upstream: URL, credentials: https.RequestOptions, options: GateOptions) {
    this.server = http.createServer((req, res) => this.handle(req, res, rule, upstream, credentials));
    this.server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
      if (options.refuseSpdy && /spdy/i.test(req.headers.upgrade ?? '')) {
        socket.end('HTTP/1.1 400 Bad Request\r\ncontent-type: text/plain\r\ncontent-length: 22\r\nconnection: close\r\n\r\nSPDY is not supported\n');
        return;
      }
      this.tunnel(req, socket, head, upstream, credentials);
    });
  }

  static async start(rule: GateRule, options: GateOptions = {}): Promise<ApiGate> {
    const kc = makeKubeConfig();
    const credentials: https.RequestOptions = {};
    await kc.applyToHTTPSOptions(credentials);
    const gate = new ApiGate(rule, new URL(kc.getCurrentCluster()!.server), credentials, options);
    await new Promise<void>((resolve) => gate.server.listen(0, '127.0.0.1', resolve));
    const { port } = gate.server.address() as AddressInfo;
    writeFileSync(gate.kubeconfig, JSON.stringify({
      apiVersion: 'v1', kind: 'Config', 'current-context': 'gate',
      clusters: [{ name: 'gate', cluster: { server: `http://127.0.0.1:${port}` } }],
      users: [{ name: 'gate', user: {} }],
      contexts: [{ name: 'gate', context: { cluster: 'gate', user: 'gate' } }],
    }));
    return gate;
  }

  /** Resolves once `holds` is true of the requests seen so far. */
  until(holds: (requests: readonly GateRequest[]) => boolean): Promise<void> {
    return new Promise((resolve) => {
      const check = () => {
        if (!holds(this.requests)) return;
        this.listeners.delete(check);
        resolve();
      };
      this.listeners.add(check);
      check();
    });
  }

  /**
   * Ends every open watch: `closed` finishes its response as the API server does when a watch's time is up,
   * `reset` cuts the connection under it. Returns how many were open.
   */
  endWatches(how: 'closed' | 'reset'): number {
    const open = [...this.openWatches];
    for (const res of open) {
      if (how === 'closed') res.end();
      else res.socket?.destroy();
    }
    return open.length;
  }

  /** Drops every held and open request, so none of them reaches the cluster later. */
  async close(): Promise<void> {
    this.server.closeAllConnections();
    for (const socket of this.tunnels) socket.destroy();
    await new Promise((resolve) => this.server.close(resolve));
    rmSync(this.dir, { recursive: true, force: true });
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse, rule: GateRule, upstream: URL, credentials: https.RequestOptions): void {
    const url = new URL(req.url ?? '/', upstream);
    const watch = url.searchParams.get('watch') === '1' || url.searchParams.get('watch') === 'true';
    const request: GateRequest = { method: req.method ?? 'GET', path: url.pathname, watch, resourceVersion: url.searchParams.get('resourceVersion') ?? undefined, state: 'held' };
    const decision = rule(request, [...this.requests]);
    this.requests.push(request);
    if (decision === 'forward') {
      request.state = 'forwarded';
      const headers = { ...req.headers, ...(credentials.headers as http.OutgoingHttpHeaders | undefined) };
      delete headers.host;
      const forwarded = https.request(url, { ...credentials, method: request.method, headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        if (watch) this.openWatches.add(res);
        answer.pipe(res);
      });
      forwarded.on('error', () => res.destroy());
      res.on('finish', () => {
        request.state = 'answered';
        this.changed();
      });
      // nh went away (killed, or done with a watch), or the gate ended the watch: so does the request it made.
      res.on('close', () => {
        this.openWatches.delete(res);
        forwarded.destroy();
      });
      req.pipe(forwarded);
    }
    this.changed();
  }

  /** An upgrade (exec, attach, port-forward): the request re-sent over TLS with the credentials, then bytes both ways. */
  private tunnel(req: http.IncomingMessage, socket: Duplex, head: Buffer, upstream: URL, credentials: https.RequestOptions): void {
    this.tunnels.add(socket);
    const upstreamSocket = tls.connect({
      host: upstream.hostname, port: Number(upstream.port || 443), servername: isIP(upstream.hostname) ? undefined : upstream.hostname,
      ca: credentials.ca, cert: credentials.cert, key: credentials.key,
    }, () => {
      const headers = { ...req.headers, ...(credentials.headers as Record<string, string> | undefined), host: upstream.host };
      const lines = [`${req.method} ${req.url} HTTP/1.1`, ...Object.entries(headers).flatMap(([k, v]) => (Array.isArray(v) ? v : [v]).map((one) => `${k}: ${one}`))];
      upstreamSocket.write(`${lines.join('\r\n')}\r\n\r\n`);
      if (head.length) upstreamSocket.write(head);
      upstreamSocket.pipe(socket);
      socket.pipe(upstreamSocket);
    });
    const closeBoth = () => {
      socket.destroy();
      upstreamSocket.destroy();
    };
    upstreamSocket.on('error', closeBoth);
    socket.on('error', closeBoth);
    socket.on('close', () => {
      this.tunnels.delete(socket);
      upstreamSocket.destroy();
    });
    upstreamSocket.on('close', () => socket.destroy());
  }

  private changed(): void {
    for (const listener of [...this.listeners]) listener();
  }
}
