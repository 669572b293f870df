/**
 * Who may talk to the session's page server (pure). It listens on 127.0.0.1 only, yet any web page the
 * user opens can make the browser send requests there: a foreign Host is DNS rebinding, a foreign Origin
 * is another site (CSRF). Every request also carries the session's token, from the URL nh printed (query
 * `token`) or, for actions, the `x-nh-token` header the page sets.
 */
import { timingSafeEqual } from 'node:crypto';

export interface GuardedRequest {
  readonly method: string;
  readonly host: string | undefined;
  readonly origin: string | undefined;
  /** The token from the query or the x-nh-token header. */
  readonly token: string | null | undefined;
}

export type Verdict = { readonly ok: true } | { readonly ok: false; readonly status: 400 | 403; readonly reason: string };

const LOOPBACK_NAMES = ['127.0.0.1', 'localhost', '[::1]'];

export function allowedHosts(port: number): Set<string> {
  return new Set(LOOPBACK_NAMES.map((name) => `${name}:${port}`));
}

export function judgeRequest(request: GuardedRequest, port: number, token: string): Verdict {
  const hosts = allowedHosts(port);
  if (!request.host || !hosts.has(request.host.toLowerCase())) return { ok: false, status: 403, reason: 'foreign Host header' };
  // Browsers send Origin on every cross-origin request and on same-origin POSTs: it must be this server.
  if (request.origin !== undefined && !hosts.has(request.origin.toLowerCase().replace(/^http:\/\//, ''))) return { ok: false, status: 403, reason: 'foreign Origin header' };
  if (request.origin !== undefined && !request.origin.toLowerCase().startsWith('http://')) return { ok: false, status: 403, reason: 'foreign Origin header' };
  if (!request.token || !sameToken(request.token, token)) return { ok: false, status: 403, reason: 'missing or wrong token' };
  return { ok: true };
}

function sameToken(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
