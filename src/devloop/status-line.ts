/**
 * The compact live status of `nh up` (pure): one segment per service, e.g.
 * `web ● running :18080 ok  api ◌ waiting for booking-inventory  inventory ✖ crashed (exit 2)`.
 */
import type { ProcessView, ServiceView } from '../events/session-event.js';
import type { ForwardState } from '../forward/port-forward.js';
import type { Outage } from './outage.js';
import type { ProcessState } from './process-supervisor.js';

export type SyncState = 'starting' | 'synced' | 'syncing' | 'no pod' | 'reconnecting' | 'error';

export interface ServiceStatus {
  readonly name: string;
  readonly sync: SyncState;
  readonly process: ProcessState | { readonly kind: 'waiting-for'; readonly services: readonly string[] } | { readonly kind: 'no-command' };
  readonly forwards: readonly { readonly local: number; readonly state: ForwardState }[];
}

export interface StatusStyle {
  readonly red: (s: string) => string;
  readonly yellow: (s: string) => string;
  readonly green: (s: string) => string;
  readonly dim: (s: string) => string;
}

export function describeProcess(process: ProcessView): { mark: 'ok' | 'busy' | 'bad' | 'idle'; text: string } {
  switch (process.kind) {
    case 'running':
      return { mark: 'ok', text: 'running' };
    case 'building':
      return { mark: 'busy', text: 'building' };
    case 'starting':
      return { mark: 'busy', text: 'starting' };
    case 'restarting':
      return { mark: 'busy', text: 'restarting' };
    case 'waiting':
      return { mark: 'idle', text: `waiting (${process.reason})` };
    case 'waiting-for':
      return { mark: 'idle', text: `waiting for ${process.services.join(', ')}` };
    case 'exited':
      return { mark: 'idle', text: 'exited (0)' };
    case 'crashed':
      return { mark: 'bad', text: `crashed (exit ${process.exitCode})` };
    case 'reconnecting':
      return { mark: 'busy', text: 'connection to the container lost, reconnecting' };
    case 'stopped':
      return { mark: 'idle', text: 'stopped' };
    case 'no-command':
      return { mark: 'idle', text: 'sync only' };
  }
}

function forwardText(forward: ServiceView['forwards'][number]): { bad: boolean; text: string } {
  switch (forward.state.kind) {
    case 'ok':
      return { bad: false, text: `:${forward.local}` };
    case 'waiting-for-pod':
      return { bad: true, text: `:${forward.local} no pod` };
    case 'app-not-listening':
      return { bad: true, text: `:${forward.local} app not listening` };
    case 'tunnel-down':
      return { bad: true, text: `:${forward.local} tunnel down` };
  }
}

const MARKS = { ok: '●', busy: '◐', bad: '✖', idle: '○' } as const;

/** `waiting for the API server (connection refused) since 12:01:03`; `clock` is the outage's start as the user reads time. */
export function describeOutage(outage: Pick<Outage, 'what' | 'cause'>, clock: string): string {
  return `waiting for ${outage.what} (${outage.cause}) since ${clock}`;
}

/** The status line, cut to `width` columns (escape codes do not count); what nh waits for comes first. */
export function renderStatusLine(services: readonly ServiceView[], style: StatusStyle, width: number, waiting?: string): string {
  const segments = services.map((service) => {
    const process = describeProcess(service.process);
    const color = process.mark === 'ok' ? style.green : process.mark === 'bad' ? style.red : process.mark === 'busy' ? style.yellow : style.dim;
    const sync = service.sync === 'synced' ? '' : ` ${style.yellow(`[${service.sync}]`)}`;
    const forwards = service.forwards.map(forwardText).map((f) => (f.bad ? style.red(f.text) : style.dim(f.text)));
    return [`${color(MARKS[process.mark])} ${service.name} ${process.text}${sync}`, ...forwards].join(' ');
  });
  return truncate([...(waiting ? [style.yellow(`⧗ ${waiting}`)] : []), ...segments].join('  '), width);
}

/** Cuts visible text to `width` columns, keeping escape sequences whole (and resetting them when cut). */
export function truncate(text: string, width: number): string {
  let visible = 0;
  let out = '';
  for (let i = 0; i < text.length; ) {
    if (text.startsWith('\u001b[', i)) {
      const end = text.indexOf('m', i);
      out += text.slice(i, end + 1);
      i = end + 1;
      continue;
    }
    if (visible >= width - 1 && i < text.length - 1) return `${out}…${text.includes('\u001b[') ? '\u001b[0m' : ''}`;
    out += text[i];
    visible++;
    i++;
  }
  return out;
}
