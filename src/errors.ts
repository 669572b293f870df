/**
 * Typed errors. Every error a user can cause carries a stable code, a message in the user's terms,
 * one hint (the next step) and the cause. Only the CLI layer turns them into output and exit codes.
 */
export type ErrorCode =
  | 'NH_USAGE'
  | 'NH_CONFIG_NOT_FOUND'
  | 'NH_CONFIG_INVALID'
  | 'NH_CONFIG_UNREADABLE'
  | 'NH_NOT_IMPLEMENTED'
  | 'NH_INTERNAL'
  // cluster access (src/kube/errors.ts)
  | 'NH_KUBECONFIG'
  | 'NH_KUBE_UNREACHABLE'
  | 'NH_KUBE_UNAUTHORIZED'
  | 'NH_KUBE_FORBIDDEN'
  | 'NH_KUBE_NOT_FOUND'
  | 'NH_KUBE_CONFLICT'
  | 'NH_KUBE_INVALID'
  | 'NH_KUBE_ERROR'
  // dev mode (issue 4)
  | 'NH_WORKLOAD_NOT_FOUND'
  | 'NH_UNSUPPORTED_KIND'
  | 'NH_OWNED_POD'
  | 'NH_NO_NODE'
  | 'NH_DEV_STATE_INVALID'
  | 'NH_CONFLICT'
  | 'NH_PLAN_STALE'
  | 'NH_ROLLOUT_FAILED'
  | 'NH_RESTORE_FAILED'
  | 'NH_UNKNOWN_SERVICE'
  | 'NH_PATCH_REJECTED'
  // exec channel (src/kube/exec.ts) and file sync (issue 5)
  | 'NH_EXEC_REFUSED'
  | 'NH_EXEC_LOST'
  | 'NH_EXEC_ABORTED'
  | 'NH_SYNC_FAILED'
  | 'NH_SYNC_UNREADABLE'
  | 'NH_SYNC_NO_POD'
  // dev loop (issue 6)
  | 'NH_PORT_IN_USE'
  | 'NH_NO_DEV_POD'
  | 'NH_LAUNCH_JSON_INVALID'
  | 'NH_PROCESS_CRASHED'
  | 'NH_UI_MISSING'
  | 'NH_NOT_RUNNING'
  | 'NH_SERVICE_RUNNING'
  | 'NH_NOT_IN_SESSION'
  | 'NH_NO_DEBUG'
  // the app's install (issue 11)
  | 'NH_TOOL_MISSING'
  | 'NH_TOOL_FAILED'
  | 'NH_RENDER_FAILED'
  | 'NH_HOOK_FAILED'
  | 'NH_WAIT_TIMEOUT'
  | 'NH_APP_RECORD_INVALID'
  | 'NH_APP_NOT_INSTALLED'
  | 'NH_APP_INSTALLED'
  | 'NH_QUOTA_EXCEEDED'
  // dev spaces (issue 12)
  | 'NH_SPACE_INVALID'
  | 'NH_SPACE_EXISTS'
  | 'NH_SPACE_NOT_FOUND'
  | 'NH_NOT_A_SPACE'
  | 'NH_NOT_A_MEMBER';

export interface NhErrorOptions {
  readonly hint?: string;
  readonly cause?: unknown;
}

export class NhError extends Error {
  readonly hint: string | undefined;

  constructor(
    readonly code: ErrorCode,
    message: string,
    options: NhErrorOptions = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'NhError';
    this.hint = options.hint;
  }
}

/** Wrong command-line use: exit code 2. */
export class UsageError extends NhError {
  constructor(message: string, hint = 'run `nh --help` for the list of commands and flags') {
    super('NH_USAGE', message, { hint });
    this.name = 'UsageError';
  }
}

export class NotImplementedError extends NhError {
  constructor(what: string) {
    super('NH_NOT_IMPLEMENTED', `${what} is not implemented yet`, {
      hint: 'see the README for the status of each command',
    });
    this.name = 'NotImplementedError';
  }
}

export function assertNever(value: never, what: string): never {
  throw new NhError('NH_INTERNAL', `unexpected ${what}: ${JSON.stringify(value)}`);
}
