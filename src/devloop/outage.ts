/**
 * What the dev loop waits for while the cluster is out of reach (pure): every part of it (each service's pod
 * watch, sync and process) reports its failures and recoveries here, and the status shows one line —
 * `waiting for the API server (connection refused) since 12:01:03` — instead of each part printing each
 * retry. The outage lasts from the first part that lost the cluster until the last one is back.
 */
import { NhError } from '../errors.js';

export interface Outage {
  /** `the API server`, `the kubelet`. */
  readonly what: string;
  /** `connection refused`, `no answer`, `HTTP 503`. */
  readonly cause: string;
  readonly since: number;
}

const CAUSES: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ETIMEDOUT: 'no answer',
  EHOSTUNREACH: 'network unreachable',
  ENETUNREACH: 'network unreachable',
  ENOTFOUND: 'name not resolved',
  EAI_AGAIN: 'name not resolved',
  EPIPE: 'connection reset',
};

/**
 * Whom a failure says nh cannot reach, and why; undefined for failures that are not an outage (RBAC, a
 * missing pod, a process's own error). The API server's answer "error dialing backend" means the kubelet.
 */
export function outageCause(error: unknown): Omit<Outage, 'since'> | undefined {
  if (!(error instanceof NhError)) return undefined;
  const code = networkCode(error);
  const status = (error as { status?: unknown }).status;
  switch (error.code) {
    case 'NH_KUBE_UNREACHABLE':
      return { what: 'the API server', cause: code ? (CAUSES[code] ?? code) : 'no answer' };
    case 'NH_KUBE_ERROR':
      return typeof status === 'number' && status >= 500 ? { what: 'the API server', cause: `HTTP ${status}` } : undefined;
    case 'NH_EXEC_LOST':
      // A socket that closed is what happened, not what nh waits for: the next try tells that.
      if (code) return { what: 'the API server', cause: CAUSES[code] ?? code };
      return /no answer|timed out/.test(error.message) ? { what: 'the API server', cause: 'no answer' } : undefined;
    case 'NH_EXEC_REFUSED':
      if (typeof status !== 'number' || status < 500) return undefined;
      // The API server's words for a kubelet it cannot reach, and a kubelet's for a runtime it cannot reach.
      if (/error sending request|dialing backend/i.test(error.message)) return { what: 'the kubelet', cause: /connection refused/i.test(error.message) ? 'connection refused' : `HTTP ${status}` };
      if (/rpc error|containerd|runtime/i.test(error.message)) return { what: 'the container runtime', cause: /Unavailable/.test(error.message) ? 'unavailable' : `HTTP ${status}` };
      // Its own trouble, in the API server's words: overloaded, or its storage away.
      if (/unable to handle the request|too many requests|etcd|storage/i.test(error.message)) return { what: 'the API server', cause: `HTTP ${status}` };
      // Otherwise the API server answered and passed on a failure from behind it: a kubelet that has just
      // started answers 500 until it knows its pods' containers again.
      return { what: 'the kubelet', cause: `HTTP ${status}` };
    default:
      return undefined;
  }
}

function networkCode(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && code in CAUSES) return code;
  }
  return undefined;
}

export class OutageTracker {
  private readonly failing = new Map<string, Omit<Outage, 'since'>>();
  private outage: Outage | undefined;

  constructor(private readonly now: () => number) {}

  /** Records a part's failure; returns false when it is not an outage (the caller reports it itself). */
  failed(part: string, error: unknown): boolean {
    const cause = outageCause(error);
    if (!cause) return false;
    this.failing.set(part, cause);
    this.outage ??= { ...cause, since: this.now() };
    this.followFailingParts();
    return true;
  }

  /** A part reached the cluster again; returns the outage that ended with it, if it was the last one out. */
  recovered(part: string): Outage | undefined {
    if (!this.failing.delete(part)) return undefined;
    if (this.failing.size > 0) {
      this.followFailingParts();
      return undefined;
    }
    const ended = this.outage;
    this.outage = undefined;
    return ended;
  }

  /** The API server back but the kubelet not: the line names what is still missing, from now. */
  private followFailingParts(): void {
    const shown = this.outage;
    if (!shown || [...this.failing.values()].some((c) => c.what === shown.what && c.cause === shown.cause)) return;
    const next = this.failing.values().next().value!;
    this.outage = { ...next, since: this.now() };
  }

  current(): Outage | undefined {
    return this.outage;
  }
}
