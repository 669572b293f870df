/**
 * KubeClient over the API server's REST interface. kubeconfig.ts says where and as whom (client-node only for
 * exec plugins and auth-providers); requests go through one keep-alive agent because client-node 1.4 opens a
 * new connection per call, and bodies stay raw JSON (client-node's classes drop unknown fields).
 */
import http from 'node:http';
import https from 'node:https';
import type { JsonPatchOp, KubeObject, ResourceKind, WatchEvent } from '../model/kube-object.js';
import {
  apiResourceName, apiResourcePath, resourcePath,
  type ApiResource, type DeleteOptions, type ApplyOptions, type KubeClient, type KubeList, type ListOptions, type LogOptions, type WatchOptions,
} from './client.js';
import { HttpStatusFailure, toKubeError, type KubeOperation } from './errors.js';
import type { ExecEndpoint } from './exec.js';
import { connect, type Connection } from './kubeconfig.js';

export interface KubeClientOptions {
  readonly kubeconfig: string | undefined;
  readonly context: string | undefined;
  readonly namespace: string | undefined;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Per request; watches end server-side instead. */
  readonly requestTimeoutMs?: number;
}

const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
/**
 * A connection that is not up by then is given up, so the caller's retry sends a fresh SYN: the kernel's
 * own SYN retries back off (1, 3, 7, 15 s…), and one sent into a dropped network would otherwise keep a
 * request waiting long after the network is back.
 */
const CONNECT_TIMEOUT_MS = 3_000;
/** Idle keep-alive connections are closed after this: one idle through a network outage would hold the next request. */
const IDLE_CONNECTION_MS = 4_000;
/** Owner of the fields nh applies (server-side apply), as `kubectl get --show-managed-fields` shows it. */
const FIELD_MANAGER = 'nh';

export async function createKubeClient(options: KubeClientOptions): Promise<KubeClient> {
  const connection = await connect(options);
  const namespace = options.namespace ?? connection.namespace ?? 'default';
  return new NodeKubeClient(connection, namespace, options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS);
}

/** What exec channels (src/kube/exec.ts) need, from the same kubeconfig, context and credentials. */
export function createExecEndpoint(options: KubeClientOptions): Promise<ExecEndpoint> {
  return connect(options);
}

interface Response {
  readonly status: number;
  readonly body: string;
}

const PATCH_TYPES = { json: 'application/json-patch+json', merge: 'application/merge-patch+json', strategic: 'application/strategic-merge-patch+json' } as const;

class NodeKubeClient implements KubeClient {
  private readonly agent: http.Agent;

  private readonly serverUrl: string;
  readonly contextName: string;
  /** Discovery answers per group/version; a kind's place in the API does not change during a run. */
  private readonly discovery = new Map<string, Promise<readonly ApiResource[] | undefined>>();

  constructor(
    private readonly connection: Connection,
    readonly namespace: string,
    private readonly timeoutMs: number,
  ) {
    this.serverUrl = connection.server;
    this.contextName = connection.contextName;
    this.agent = this.serverUrl.startsWith('https:') ? new https.Agent({ keepAlive: true, maxSockets: 32, timeout: IDLE_CONNECTION_MS }) : new http.Agent({ keepAlive: true, maxSockets: 32, timeout: IDLE_CONNECTION_MS });
  }

  async get(kind: ResourceKind, namespace: string, name: string): Promise<KubeObject | undefined> {
    const op: KubeOperation = { verb: 'get', kind, namespace, name };
    const res = await this.send(op, 'GET', resourcePath(kind, namespace, name), { allow404: true });
    return res.status === 404 ? undefined : parse<KubeObject>(res.body, op);
  }

  async list(kind: ResourceKind, namespace: string, options: ListOptions = {}): Promise<KubeList> {
    const op: KubeOperation = { verb: 'list', kind, namespace };
    const res = await this.send(op, 'GET', resourcePath(kind, namespace) + query({ ...options }));
    const list = parse<{ items?: KubeObject[]; metadata?: { resourceVersion?: string } }>(res.body, op);
    return { items: list.items ?? [], resourceVersion: list.metadata?.resourceVersion ?? '' };
  }

  async create(kind: ResourceKind, namespace: string, body: KubeObject): Promise<KubeObject> {
    const op: KubeOperation = { verb: 'create', kind, namespace, name: body.metadata.name };
    const res = await this.send(op, 'POST', resourcePath(kind, namespace), { body: JSON.stringify(body), contentType: 'application/json' });
    return parse<KubeObject>(res.body, op);
  }

  async patch(kind: ResourceKind, namespace: string, name: string, ops: readonly JsonPatchOp[]): Promise<KubeObject> {
    const op: KubeOperation = { verb: 'patch', kind, namespace, name };
    const res = await this.send(op, 'PATCH', resourcePath(kind, namespace, name), { body: JSON.stringify(ops), contentType: 'application/json-patch+json' });
    return parse<KubeObject>(res.body, op);
  }

  async patchDocument(kind: ResourceKind, namespace: string, name: string, type: 'json' | 'merge' | 'strategic', body: unknown): Promise<KubeObject> {
    const op: KubeOperation = { verb: 'patch', kind, namespace, name };
    const res = await this.send(op, 'PATCH', resourcePath(kind, namespace, name), { body: JSON.stringify(body), contentType: PATCH_TYPES[type] });
    return parse<KubeObject>(res.body, op);
  }

  async delete(kind: ResourceKind, namespace: string, name: string, options: DeleteOptions = {}): Promise<void> {
    const body = options.uid === undefined ? {} : { body: JSON.stringify({ kind: 'DeleteOptions', apiVersion: 'v1', preconditions: { uid: options.uid } }), contentType: 'application/json' };
    await this.send({ verb: 'delete', kind, namespace, name }, 'DELETE', resourcePath(kind, namespace, name), { allow404: true, ...body });
  }

  async logs(namespace: string, pod: string, options: LogOptions): Promise<string> {
    const op: KubeOperation = { verb: 'get', kind: 'Pod', namespace, name: pod, subresource: 'log' };
    const q = query({ container: options.container, tailLines: String(options.tailLines), previous: String(options.previous) });
    const res = await this.send(op, 'GET', `${resourcePath('Pod', namespace, pod)}/log${q}`, { allow404: true });
    return res.status === 404 ? '' : res.body;
  }

  async watch(kind: ResourceKind, namespace: string, options: WatchOptions, onEvent: (event: WatchEvent) => boolean, signal: AbortSignal): Promise<void> {
    const op: KubeOperation = { verb: 'watch', kind, namespace };
    const q = query({
      watch: '1', allowWatchBookmarks: 'true', resourceVersion: options.resourceVersion, timeoutSeconds: String(options.timeoutSeconds),
      labelSelector: options.labelSelector, fieldSelector: options.fieldSelector,
    });
    const request = await this.open('GET', resourcePath(kind, namespace) + q, undefined);
    // The server ends the watch after timeoutSeconds; the socket timeout catches a half-open connection.
    const idleMs = (options.timeoutSeconds + 30) * 1000;
    await new Promise<void>((resolve, reject) => {
      const onAbort = () => req.destroy();
      const finish = (error?: unknown) => {
        signal.removeEventListener('abort', onAbort);
        if (error && !signal.aborted) reject(toKubeError(error, op));
        else resolve();
      };
      const req = request((res) => {
        if ((res.statusCode ?? 0) >= 300) {
          void collect(res).then((body) => finish(new HttpStatusFailure(res.statusCode ?? 0, body)), finish);
          return;
        }
        let buffered = '';
        let stopped = false;
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buffered += chunk;
          let newline: number;
          while (!stopped && (newline = buffered.indexOf('\n')) >= 0) {
            const line = buffered.slice(0, newline).trim();
            buffered = buffered.slice(newline + 1);
            if (!line) continue;
            let event: WatchEvent;
            try {
              event = JSON.parse(line) as WatchEvent;
            } catch (error) {
              stopped = true;
              req.destroy();
              finish(error);
              return;
            }
            if (onEvent(event)) {
              stopped = true;
              req.destroy();
              finish();
            }
          }
        });
        res.on('end', () => finish());
        res.on('error', (e) => (stopped ? undefined : finish(e)));
      });
      req.setTimeout(idleMs, () => req.destroy(Object.assign(new Error('watch idle'), { code: 'ETIMEDOUT' })));
      req.on('error', (e) => finish(e));
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
      req.end();
    });
  }

  get server(): { url: string; certificateAuthorityData: string | undefined } {
    return { url: this.serverUrl, certificateAuthorityData: this.connection.certificateAuthorityData };
  }

  async resourceFor(apiVersion: string, kind: string): Promise<ApiResource | undefined> {
    let resources = this.discovery.get(apiVersion);
    if (!resources) {
      resources = this.discover(apiVersion);
      this.discovery.set(apiVersion, resources);
      resources.catch(() => this.discovery.delete(apiVersion));
    }
    return (await resources)?.find((r) => r.kind === kind);
  }

  async getObject(resource: ApiResource, namespace: string | undefined, name: string): Promise<KubeObject | undefined> {
    const op = operation('get', resource, namespace, name);
    const res = await this.send(op, 'GET', apiResourcePath(resource, namespace, name), { allow404: true });
    return res.status === 404 ? undefined : parse<KubeObject>(res.body, op);
  }

  async applyObject(resource: ApiResource, namespace: string | undefined, body: KubeObject, options: ApplyOptions): Promise<KubeObject> {
    const op = operation('patch', resource, namespace, body.metadata.name);
    const q = query({ fieldManager: FIELD_MANAGER, force: 'true', dryRun: options.dryRun ? 'All' : undefined });
    const res = await this.send(op, 'PATCH', apiResourcePath(resource, namespace, body.metadata.name) + q, {
      body: JSON.stringify(body), contentType: 'application/apply-patch+yaml',
    });
    return parse<KubeObject>(res.body, op);
  }

  async deleteObject(resource: ApiResource, namespace: string | undefined, name: string): Promise<void> {
    // As a query parameter: Node sends a DELETE body without a length, which would corrupt the keep-alive connection.
    await this.send(operation('delete', resource, namespace, name), 'DELETE', apiResourcePath(resource, namespace, name) + query({ propagationPolicy: 'Foreground' }), { allow404: true });
  }

  async listObjects(resource: ApiResource, namespace: string | undefined, options: ListOptions = {}): Promise<KubeList> {
    const op: KubeOperation = { verb: 'list', kind: resource.kind, resource: apiResourceName(resource), namespace: namespace ?? '' };
    const res = await this.send(op, 'GET', apiResourcePath(resource, namespace) + query({ ...options }));
    const list = parse<{ items?: KubeObject[]; metadata?: { resourceVersion?: string } }>(res.body, op);
    return { items: (list.items ?? []).map((o) => ({ ...o, apiVersion: o.apiVersion ?? apiVersionOf(resource), kind: o.kind ?? resource.kind })), resourceVersion: list.metadata?.resourceVersion ?? '' };
  }

  async requestToken(namespace: string, serviceAccount: string, seconds: number): Promise<{ token: string; expires: string }> {
    const op: KubeOperation = { verb: 'create', kind: 'TokenRequest', resource: 'serviceaccounts/token', namespace, name: serviceAccount };
    const body = { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: seconds } };
    const res = await this.send(op, 'POST', `/api/v1/namespaces/${encodeURIComponent(namespace)}/serviceaccounts/${encodeURIComponent(serviceAccount)}/token`, {
      body: JSON.stringify(body), contentType: 'application/json',
    });
    const status = parse<{ status?: { token?: string; expirationTimestamp?: string } }>(res.body, op).status;
    return { token: status?.token ?? '', expires: status?.expirationTimestamp ?? '' };
  }

  async whoAmI(): Promise<string> {
    const op: KubeOperation = { verb: 'create', kind: 'SelfSubjectReview', resource: 'selfsubjectreviews.authentication.k8s.io', namespace: '' };
    const res = await this.send(op, 'POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', {
      body: JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' }), contentType: 'application/json',
    });
    return parse<{ status?: { userInfo?: { username?: string } } }>(res.body, op).status?.userInfo?.username ?? '';
  }

  close(): void {
    this.agent.destroy();
  }

  private async discover(apiVersion: string): Promise<readonly ApiResource[] | undefined> {
    const [group, version] = apiVersion.includes('/') ? (apiVersion.split('/', 2) as [string, string]) : ['', apiVersion];
    const op: KubeOperation = { verb: 'get', kind: 'APIResourceList', resource: 'discovery', namespace: '' };
    const res = await this.send(op, 'GET', group ? `/apis/${group}/${version}` : `/api/${version}`, { allow404: true });
    if (res.status === 404) return undefined;
    const list = parse<{ resources?: { name: string; kind: string; namespaced: boolean }[] }>(res.body, op);
    return (list.resources ?? [])
      .filter((r) => !r.name.includes('/'))
      .map((r) => ({ group, version, kind: r.kind, plural: r.name, namespaced: r.namespaced }));
  }

  private async send(op: KubeOperation, method: string, path: string, options: { body?: string; contentType?: string; allow404?: boolean } = {}): Promise<Response> {
    try {
      // A body needs its length: Node frames none by default on DELETE, and the server would read it as the next request.
      const request = await this.open(method, path, options.contentType, options.body === undefined ? undefined : Buffer.byteLength(options.body));
      const res = await new Promise<Response>((resolve, reject) => {
        const req = request((r) => void collect(r).then((body) => resolve({ status: r.statusCode ?? 0, body }), reject));
        req.setTimeout(this.timeoutMs, () => req.destroy(Object.assign(new Error('request timed out'), { code: 'ETIMEDOUT' })));
        req.on('error', reject);
        req.end(options.body);
      });
      if (res.status === 404 && options.allow404) return res;
      if (res.status >= 300) throw new HttpStatusFailure(res.status, res.body);
      return res;
    } catch (error) {
      throw toKubeError(error, op);
    }
  }

  /** A request function with credentials and TLS applied (re-applied per call: exec plugins refresh tokens). */
  private async open(method: string, path: string, contentType: string | undefined, contentLength?: number) {
    const options: https.RequestOptions = {};
    await this.connection.applyToHTTPSOptions(options);
    const url = new URL(this.serverUrl.replace(/\/$/, '') + path);
    const headers = { ...(options.headers ?? {}), Accept: 'application/json', ...(contentType ? { 'Content-Type': contentType } : {}), ...(contentLength === undefined ? {} : { 'Content-Length': String(contentLength) }) };
    const requestOptions: https.RequestOptions = { ...options, method, headers, agent: this.agent };
    const transport = url.protocol === 'https:' ? https : http;
    return (onResponse: (res: http.IncomingMessage) => void) => limitConnectTime(transport.request(url, requestOptions, onResponse));
  }
}

function apiVersionOf(resource: ApiResource): string {
  return resource.group ? `${resource.group}/${resource.version}` : resource.version;
}

function limitConnectTime(req: http.ClientRequest): http.ClientRequest {
  req.once('socket', (socket) => {
    if (!socket.connecting) return;
    const timer = setTimeout(() => req.destroy(Object.assign(new Error('connect timed out'), { code: 'ETIMEDOUT' })), CONNECT_TIMEOUT_MS);
    timer.unref();
    socket.once('connect', () => clearTimeout(timer));
    socket.once('close', () => clearTimeout(timer));
  });
  return req;
}

function operation(verb: KubeOperation['verb'], resource: ApiResource, namespace: string | undefined, name: string): KubeOperation {
  return { verb, kind: resource.kind, resource: apiResourceName(resource), namespace: resource.namespaced ? (namespace ?? '') : '', name };
}

function collect(res: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.on('error', reject);
  });
}

function query(params: Readonly<Record<string, string | undefined>>): string {
  const entries = Object.entries(params).filter((e): e is [string, string] => e[1] !== undefined && e[1] !== '');
  return entries.length ? `?${new URLSearchParams(entries).toString()}` : '';
}

function parse<T>(body: string, op: KubeOperation): T {
  try {
    return JSON.parse(body) as T;
  } catch (error) {
    throw toKubeError(new Error(`the API server answered with something that is not JSON (${body.slice(0, 80)})`, { cause: error }), op);
  }
}
