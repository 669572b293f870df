/**
 * The dev session's event stream, version 1: one JSON object per event, the same for `nh up --output json`
 * (NDJSON on stdout), the terminal view and the web page. Documented in README ("Events") and in
 * nh-events.schema.json; a field is only ever added, and a change of meaning bumps `v`.
 */
import type { ForwardState } from '../forward/port-forward.js';
import type { SyncState } from '../devloop/status-line.js';
import type { ServicePlan } from '../plan/types.js';

export const EVENT_VERSION = 1;

/** A process state as the stream carries it (no Error objects: a lost connection says its message). */
export type ProcessView =
  | { readonly kind: 'waiting'; readonly reason: string }
  | { readonly kind: 'waiting-for'; readonly services: readonly string[] }
  | { readonly kind: 'building' | 'starting' | 'restarting' | 'stopped' | 'no-command' }
  | { readonly kind: 'running'; readonly pod: string }
  | { readonly kind: 'exited'; readonly exitCode: number }
  | { readonly kind: 'crashed'; readonly exitCode: number; readonly message?: string | undefined }
  | { readonly kind: 'reconnecting'; readonly message?: string };

export interface ServiceView {
  readonly name: string;
  readonly sync: SyncState;
  readonly process: ProcessView;
  readonly forwards: readonly { readonly local: number; readonly state: ForwardState }[];
}

/** What a service is, from the config: shown before anything runs. */
export interface ServiceInfo {
  readonly name: string;
  readonly workload: { readonly kind: string; readonly name: string };
  readonly image: string | undefined;
  readonly workDir: string;
  readonly hotReload: boolean;
  readonly dependsOn: readonly string[];
  readonly forwards: readonly { readonly local: number; readonly remote: number }[];
  readonly debug?: { readonly port: number; readonly language: string } | undefined;
}

/** A service's entry of the plan, without the writes. */
export type PlannedService = Pick<ServicePlan, 'service' | 'workload' | 'action' | 'reason' | 'fields' | 'owner'>;

/** The event bodies; the stream stamps each with v, seq and time. */
export type SessionEventBody =
  /** `others`: the config's services not in this session (the page can bring them into dev mode). */
  | { readonly type: 'session-start'; readonly app: string; readonly namespace: string; readonly debug: boolean; readonly services: readonly ServiceInfo[]; readonly others?: readonly ServiceInfo[] | undefined; readonly ui?: string | undefined }
  /** The app's install or upgrade: a progress line per step (applies, dependency waits, hooks), then its outcome. */
  | { readonly type: 'app'; readonly app: string; readonly status: 'progress' | 'done' | 'unchanged' | 'failed'; readonly message: string }
  /** A service joined the running session (entered dev mode from the page, or runs again under the debugger) or left it. */
  | { readonly type: 'service'; readonly service: string; readonly change: 'joined' | 'left'; readonly debug: boolean; readonly info: ServiceInfo }
  | { readonly type: 'plan'; readonly app?: { readonly name: string; readonly action: string; readonly reason: string } | undefined; readonly services: readonly PlannedService[] }
  /** Dev mode of one service: a progress line while it is entered, then its outcome. */
  | { readonly type: 'dev-mode'; readonly service: string; readonly status: 'progress' | 'done' | 'unchanged' | 'failed' | 'restored' | 'stale'; readonly message: string; readonly pod?: string | undefined }
  | { readonly type: 'status'; readonly services: readonly ServiceView[]; readonly waitingFor?: { readonly what: string; readonly cause: string; readonly since: string } | undefined }
  | { readonly type: 'process'; readonly service: string; readonly process: ProcessView }
  | { readonly type: 'sync'; readonly service: string; readonly initial: boolean; readonly files: number; readonly bytes: number; readonly latencyMs: number }
  | { readonly type: 'reload'; readonly service: string; readonly files: number; readonly saveToSyncedMs: number; readonly syncedToRestartedMs: number }
  | { readonly type: 'forward'; readonly service: string; readonly local: number; readonly state: ForwardState }
  | { readonly type: 'debugger'; readonly service: string; readonly port: number; readonly language: string; readonly attach: string }
  | { readonly type: 'log'; readonly service: string; readonly stream: 'stdout' | 'stderr'; readonly line: string }
  | { readonly type: 'notice'; readonly service?: string | undefined; readonly level: 'info' | 'warn'; readonly message: string }
  | { readonly type: 'error'; readonly service?: string | undefined; readonly code: string; readonly message: string; readonly hint?: string | undefined }
  | { readonly type: 'session-end'; readonly reason: 'stopped' | 'failed'; readonly message?: string | undefined };

export type SessionEvent = SessionEventBody & { readonly v: typeof EVENT_VERSION; readonly seq: number; readonly time: string };

/** Stamps bodies and hands each event to every subscriber, in order. */
export class EventStream {
  private seq = 0;
  private readonly subscribers = new Set<(event: SessionEvent) => void>();

  constructor(private readonly now: () => Date) {}

  subscribe(subscriber: (event: SessionEvent) => void): () => void {
    this.subscribers.add(subscriber);
    return () => this.subscribers.delete(subscriber);
  }

  emit(body: SessionEventBody): void {
    const event = { v: EVENT_VERSION, seq: ++this.seq, time: this.now().toISOString(), ...body } as SessionEvent;
    for (const subscriber of this.subscribers) subscriber(event);
  }
}
