// A plain-HTTP stand-in for the API server between nh and the real one, so that a test can stop nh at an
// exact point of its work: the gate logs every request (method, path) and, as the test's rule says, forwards
// it (passing the answer back) or holds it (never forwarded, never answered). nh then waits on a held request
// for as long as the test likes, so a kill lands in a known phase however fast or slow the machine is.
// nh reaches the gate through a kubeconfig of its own (http, no credentials); the gate reaches the cluster
// with the test kubeconfig's admin credentials.
import http from 'node:http';
import https from 'node:https';
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
  /** `held` requests never reach the API server; `answered` ones had their whole answer passed back to nh. */
  state: 'held' | 'forwarded' | 'answered';
}

/** Decides each request as it arrives; `earlier` holds the requests that came before it. */
export type GateRule = (request: GateRequest, earlier: readonly GateRequest[]) => 'forward' | 'hold';

export class ApiGate {
  readonly requests: GateRequest[] = [];
  private readonly listeners = new Set<() => void>();

  private readonly server: http.Server;
  private readonly dir = mkdtempSync(join(tmpdir(), 'nh-e2e-gate-'));
  /** A kubeconfig whose only context points at the gate. */
  readonly kubeconfig = join(this.dir, 'kubeconfig');

  private constructor(rule: GateRule, upstream: URL, credentials: https.RequestOptions) {
    this.server = http.createServer((req, res) => this.handle(req, res, rule, upstream, credentials));
  }

  static async start(rule: GateRule): Promise<ApiGate> {
    const kc = makeKubeConfig();
    const credentials: https.RequestOptions = {};
    await kc.applyToHTTPSOptions(credentials);
    const gate = new ApiGate(rule, new URL(kc.getCurrentCluster()!.server), credentials);
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

  /** Drops every held and open request, so none of them reaches the cluster later. */
  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
    rmSync(this.dir, { recursive: true, force: true });
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse, rule: GateRule, upstream: URL, credentials: https.RequestOptions): void {
    const url = new URL(req.url ?? '/', upstream);
    const request: GateRequest = { method: req.method ?? 'GET', path: url.pathname, watch: url.searchParams.get('watch') === '1', state: 'held' };
    const decision = rule(request, [...this.requests]);
    this.requests.push(request);
    if (decision === 'forward') {
      request.state = 'forwarded';
      const headers = { ...req.headers, ...(credentials.headers as http.OutgoingHttpHeaders | undefined) };
      delete headers.host;
      const forwarded = https.request(url, { ...credentials, method: request.method, headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      forwarded.on('error', () => res.destroy());
      res.on('finish', () => {
        request.state = 'answered';
        this.changed();
      });
      // nh went away (killed, or done with a watch): so does the request it made.
      res.on('close', () => forwarded.destroy());
      req.pipe(forwarded);
    }
    this.changed();
  }

  private changed(): void {
    for (const listener of [...this.listeners]) listener();
  }
}
