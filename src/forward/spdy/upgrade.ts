/**
 * The HTTP/1.1 upgrade to SPDY/3.1 for a pod's port-forward subresource, as kubectl does it: POST with
 * `Upgrade: SPDY/3.1` and `X-Stream-Protocol-Version: portforward.k8s.io`; the API server answers 101 once
 * the kubelet has upgraded too, and the socket then carries SPDY frames.
 */
import type { RequestOptions } from 'node:https';
import type { Socket } from 'node:net';
import { HANDSHAKE_TIMEOUT_MS, type ExecEndpoint } from '../../kube/exec.js';
import { statusMessageSuffix } from '../../kube/status-message.js';

export const PORT_FORWARD_PROTOCOL = 'portforward.k8s.io';

/** The API server answered the upgrade with something else than 101: this path does not take SPDY, or not now. */
export class UpgradeRefusedError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'UpgradeRefusedError';
  }
}

export interface PodRef {
  readonly namespace: string;
  readonly pod: string;
}

export function portForwardPath(target: PodRef): string {
  return `/api/v1/namespaces/${encodeURIComponent(target.namespace)}/pods/${encodeURIComponent(target.pod)}/portforward`;
}

/** Resolves with the upgraded socket (any bytes that came with the 101 put back in front). */
export async function upgradeToSpdy(endpoint: ExecEndpoint, target: PodRef): Promise<Socket> {
  const url = new URL(endpoint.server.replace(/\/+$/, '') + portForwardPath(target));
  const requestOptions: RequestOptions = {};
  await endpoint.applyToHTTPSOptions(requestOptions);
  const transport = url.protocol === 'https:' ? await import('node:https') : await import('node:http');
  return new Promise<Socket>((resolve, reject) => {
    const request = transport.request(url, {
      ...requestOptions,
      method: 'POST',
      headers: { ...requestOptions.headers, connection: 'Upgrade', upgrade: 'SPDY/3.1', 'x-stream-protocol-version': PORT_FORWARD_PROTOCOL },
      timeout: HANDSHAKE_TIMEOUT_MS,
    });
    request.on('timeout', () => request.destroy(new Error(`no answer to the port-forward upgrade within ${HANDSHAKE_TIMEOUT_MS / 1000} s`)));
    request.on('error', reject);
    request.on('upgrade', (response, socket: Socket, head: Buffer) => {
      const protocol = response.headers['x-stream-protocol-version'];
      if (protocol !== undefined && protocol !== PORT_FORWARD_PROTOCOL) {
        socket.destroy();
        return reject(new UpgradeRefusedError(101, `the API server chose the protocol ${String(protocol)}`));
      }
      socket.setTimeout(0);
      // Frames are small and latency-bound (a request's first bytes); Nagle would hold them back.
      socket.setNoDelay(true);
      if (head.length) socket.unshift(head);
      resolve(socket);
    });
    request.on('response', (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk.slice(0, 2048)));
      response.on('end', () => reject(new UpgradeRefusedError(response.statusCode ?? 0, `port-forward to ${target.pod} refused (HTTP ${response.statusCode ?? 0})${statusMessageSuffix(body)}`)));
      response.on('error', reject);
    });
    request.end();
  });
}
