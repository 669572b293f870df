/**
 * dependLabelSelector.tcp / .http without a webhook or an init container: the address names a Service of the
 * namespace (`db:5432`, `http://api:8080/healthz`), and nh checks it from the developer's machine through a
 * port-forward tunnel to one of the Service's ready pods, on the port the Service sends that traffic to.
 */
import type { ExecEndpoint } from '../kube/exec.js';
import type { KubeObject } from '../model/kube-object.js';
import { pipeThroughTunnel, probeTunnel, type TunnelTarget } from './tunnel.js';

export interface Address {
  readonly service: string;
  readonly port: number;
  /** For http: the path and query to GET. */
  readonly path?: string;
}

/** `db:5432`, `db.ns.svc.cluster.local:5432`, `http://api:8080/healthz`; undefined when it is not one. */
export function parseAddress(text: string, kind: 'tcp' | 'http'): Address | undefined {
  if (kind === 'http') {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      return undefined;
    }
    if (url.protocol !== 'http:') return undefined;
    return { service: url.hostname.split('.')[0]!, port: Number(url.port || 80), path: `${url.pathname}${url.search}` };
  }
  const match = /^([a-z0-9]([-a-z0-9.]*[a-z0-9])?):(\d{1,5})$/.exec(text.trim());
  return match ? { service: match[1]!.split('.')[0]!, port: Number(match[3]) } : undefined;
}

/** The pod port a Service port sends to: a number, or a named container port of that pod. */
export function targetPort(service: KubeObject, port: number, pod: KubeObject): number | undefined {
  const ports = (service['spec'] as { ports?: { port: number; targetPort?: number | string }[] } | undefined)?.ports ?? [];
  const entry = ports.find((p) => p.port === port);
  if (!entry) return undefined;
  const target = entry.targetPort ?? entry.port;
  if (typeof target === 'number') return target;
  if (/^\d+$/.test(target)) return Number(target);
  const containers = (pod['spec'] as { containers?: { ports?: { name?: string; containerPort: number }[] }[] } | undefined)?.containers ?? [];
  return containers.flatMap((c) => c.ports ?? []).find((p) => p.name === target)?.containerPort;
}

/** undefined when the address answers; else why not, in a few words. */
export async function probeAddress(endpoint: ExecEndpoint, target: TunnelTarget, path: string | undefined): Promise<string | undefined> {
  if (path === undefined) {
    const failure = await probeTunnel(endpoint, target);
    return failure?.message;
  }
  const net = await import('node:net');
  const http = await import('node:http');
  const server = net.createServer((socket) => void pipeThroughTunnel(endpoint, target, socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  try {
    return await new Promise<string | undefined>((resolve) => {
      const req = http.get({ host: '127.0.0.1', port, path, timeout: 3_000, headers: { host: 'localhost' } }, (res) => {
        res.resume();
        const status = res.statusCode ?? 0;
        resolve(status >= 200 && status < 300 ? undefined : `HTTP ${status}`);
      });
      req.on('timeout', () => req.destroy(new Error('no answer within 3 s')));
      req.on('error', (error) => resolve(error.message));
    });
  } finally {
    server.close();
  }
}
