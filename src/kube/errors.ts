/**
 * The one place where errors from the API server, the network and @kubernetes/client-node become NhErrors.
 * ApiException.message carries the response headers (tokens, cookies): it is never shown, only the status
 * code and the Status body's message.
 */
import { NhError, type ErrorCode } from '../errors.js';
import { resourceName } from './client.js';
import type { ResourceKind } from '../model/kube-object.js';

/** What nh was doing when a request failed: names the verb and resource in messages and RBAC hints. */
export interface KubeOperation {
  readonly verb: 'get' | 'list' | 'watch' | 'create' | 'patch' | 'delete';
  /** A kind nh knows, or any kind of the app's resources (then `resource` names it for RBAC hints). */
  readonly kind: string;
  /** `configmaps`, `roles.rbac.authorization.k8s.io`: for kinds outside ResourceKind. */
  readonly resource?: string;
  readonly namespace: string;
  readonly name?: string;
  /** For `pods/log` and other subresources. */
  readonly subresource?: string;
}

/** A non-2xx answer of the API server, as node-client.ts sees it (raw body text). */
export class HttpStatusFailure extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    super(`HTTP ${status}`);
    this.name = 'HttpStatusFailure';
  }
}

export class KubeError extends NhError {
  constructor(
    code: ErrorCode,
    message: string,
    readonly status: number | undefined,
    options: { hint?: string; cause?: unknown },
  ) {
    super(code, message, options);
    this.name = 'KubeError';
  }
}

export function isKubeError(error: unknown, status?: number): error is KubeError {
  return error instanceof KubeError && (status === undefined || error.status === status);
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE']);

export function toKubeError(error: unknown, op: KubeOperation): NhError {
  if (error instanceof NhError) return error;
  const status = statusOf(error);
  if (status !== undefined) return fromStatus(status.code, status.message, op, error);
  const code = networkCode(error);
  if (code || isAbort(error)) {
    // A certificate the kubeconfig's CA does not vouch for is not a cluster that is down.
    const untrusted = code?.includes('CERT');
    return new KubeError('NH_KUBE_UNREACHABLE', `cannot reach the Kubernetes API server${untrusted ? ': its certificate is not trusted' : ''} (${code ?? 'request timed out'})`, undefined, {
      hint: untrusted
        ? "the kubeconfig's certificate-authority(-data) must name the CA that signed the API server's certificate (`kubectl cluster-info` checks the same)"
        : 'is the cluster up? Check --kubeconfig and --context (`kubectl cluster-info` uses the same settings)',
      cause: error,
    });
  }
  return new KubeError('NH_KUBE_ERROR', `${describe(op)} failed: ${safeMessage(error)}`, undefined, { cause: error });
}

function fromStatus(code: number, serverMessage: string | undefined, op: KubeOperation, cause: unknown): KubeError {
  const target = describe(op);
  const detail = serverMessage ? `: ${serverMessage}` : '';
  const base = op.resource ?? resourceName(op.kind as ResourceKind);
  const resource = op.subresource ? `${base}/${op.subresource}` : base;
  switch (code) {
    case 401:
      return new KubeError('NH_KUBE_UNAUTHORIZED', `the API server did not accept the credentials while trying to ${target}`, code, {
        hint: 'the kubeconfig credentials are missing or expired; log in again or pick another --context',
        cause,
      });
    case 403:
      // Quota and admission rejections also come as 403; they are not RBAC, so show the server's words.
      if (serverMessage && !/cannot \S+ resource/.test(serverMessage)) {
        return new KubeError('NH_KUBE_FORBIDDEN', `the API server refused to ${target}${detail}`, code, {
          hint: 'a ResourceQuota, LimitRange or admission policy of the namespace rejected the change',
          cause,
        });
      }
      return new KubeError('NH_KUBE_FORBIDDEN', `not allowed to ${op.verb} ${resource} ${op.namespace ? `in namespace \`${op.namespace}\`` : '(cluster-scoped)'}`, code, {
        hint: `check with \`kubectl auth can-i ${op.verb} ${resource}${op.namespace ? ` -n ${op.namespace}` : ''}\`; ask an admin for a ${op.namespace ? 'Role' : 'ClusterRole'} that allows it`,
        cause,
      });
    case 404:
      return new KubeError('NH_KUBE_NOT_FOUND', `${op.kind}${op.name ? ` \`${op.name}\`` : 's'} not found in namespace \`${op.namespace}\``, code, {
        hint: 'check the namespace (-n) and the name', cause,
      });
    case 409:
      return new KubeError('NH_KUBE_CONFLICT', `${target} conflicted with a concurrent change${detail}`, code, { hint: 'run the command again', cause });
    case 400:
    case 422:
      return new KubeError('NH_KUBE_INVALID', `the API server rejected the request to ${target}${detail}`, code, {
        hint: 'the change is invalid for this object; run with -v for details', cause,
      });
    default:
      return new KubeError('NH_KUBE_ERROR', `${target} failed with HTTP ${code}${detail}`, code, {
        hint: code >= 500 ? 'the API server had a problem; try again' : 'run with -v for details', cause,
      });
  }
}

function describe(op: KubeOperation): string {
  const what = op.name ? `${op.kind} \`${op.name}\`` : `${op.kind}s`;
  const verb = op.subresource === 'log' ? 'read the log of' : op.verb;
  return op.namespace ? `${verb} ${what} in namespace \`${op.namespace}\`` : `${verb} ${what} (cluster-scoped)`;
}

/** Status code and Status.message of an HTTP failure: ours, client-node's ApiException, or a Watch error. */
function statusOf(error: unknown): { code: number; message: string | undefined } | undefined {
  if (error instanceof HttpStatusFailure) return { code: error.status, message: statusMessage(error.body) };
  if (typeof error !== 'object' || error === null) return undefined;
  const e = error as { code?: unknown; statusCode?: unknown; body?: unknown };
  // client-node ApiException: numeric `code`, body = raw JSON text of a V1Status (or undefined on 401).
  if (typeof e.code === 'number' && e.code >= 100 && e.code < 600) {
    return { code: e.code, message: typeof e.body === 'string' ? statusMessage(e.body) : messageField(e.body) };
  }
  if (typeof e.statusCode === 'number') return { code: e.statusCode, message: undefined };
  return undefined;
}

function statusMessage(body: string): string | undefined {
  try {
    return messageField(JSON.parse(body));
  } catch {
    return body.trim() ? body.trim().slice(0, 300) : undefined;
  }
}

function messageField(body: unknown): string | undefined {
  const message = (body as { message?: unknown } | undefined)?.message;
  return typeof message === 'string' ? message : undefined;
}

function networkCode(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && (NETWORK_CODES.has(code) || code.startsWith('ERR_TLS') || code.includes('CERT'))) return code;
  }
  return undefined;
}

function isAbort(error: unknown): boolean {
  const name = (error as { name?: unknown } | undefined)?.name;
  return name === 'AbortError' || name === 'TimeoutError';
}

/** The first line of an unknown error's message, and never anything that looks like headers. */
function safeMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0]!.slice(0, 300);
}
