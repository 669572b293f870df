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
      return { what: 'the API server', cause: code ? (CAUSES[code] ?? code) : /no answer/.test(error.message) ? 'no answer' : 'connection lost' };
    case 'NH_EXEC_REFUSED':
      if (typeof status !== 'number' || status < 500) return undefined;
      return /dialing backend|kubelet/i.test(error.message)
        ? { what: 'the kubelet', cause: /connection refused/i.test(error.message) ? 'connection refused' : `HTTP ${status}` }
        : { what: 'the API server', cause: `HTTP ${status}` };
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
    return true;
  }

  /** A part reached the cluster again; returns the outage that ended with it, if it was the last one out. */
  recovered(part: string): Outage | undefined {
    if (!this.failing.delete(part) || this.failing.size > 0) return undefined;
    const ended = this.outage;
    this.outage = undefined;
    return ended;
  }

  current(): Outage | undefined {
    return this.outage;
  }
}
