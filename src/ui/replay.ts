/**
 * What a page that connects (or reconnects) is sent first (pure): the current state of the session as the
 * events that made it, without their history. Per kind of event the latest one counts (the latest status,
 * each service's latest sync, reload, error…); log lines and notices keep a bounded tail.
 */
import type { SessionEvent } from '../events/session-event.js';

export const REPLAYED_LOG_LINES = 5_000;
const REPLAYED_NOTICES = 100;

export class ReplayState {
  private readonly latest = new Map<string, SessionEvent>();
  private readonly logs: SessionEvent[] = [];
  private readonly notices: SessionEvent[] = [];

  constructor(private readonly maxLogLines = REPLAYED_LOG_LINES) {}

  add(event: SessionEvent): void {
    switch (event.type) {
      case 'log':
        return pushBounded(this.logs, event, this.maxLogLines);
      case 'notice':
        return pushBounded(this.notices, event, REPLAYED_NOTICES);
      default:
        this.latest.set(keyOf(event), event);
    }
  }

  /** The events to replay, in the order they happened. */
  events(): SessionEvent[] {
    return [...this.latest.values(), ...this.notices, ...this.logs].sort((a, b) => a.seq - b.seq);
  }
}

/** Which earlier event a new one replaces. */
function keyOf(event: Exclude<SessionEvent, { type: 'log' | 'notice' }>): string {
  switch (event.type) {
    case 'forward':
      return `forward\n${event.service}\n${event.local}`;
    case 'process':
    case 'sync':
    case 'reload':
    case 'debugger':
    case 'dev-mode':
    case 'service':
      return `${event.type}\n${event.service}`;
    case 'error':
      return `error\n${event.service ?? ''}`;
    default:
      return event.type;
  }
}

function pushBounded(list: SessionEvent[], event: SessionEvent, max: number): void {
  list.push(event);
  // Trimmed in chunks: a shift per line would cost O(n) each.
  if (list.length > max * 1.25) list.splice(0, list.length - max);
}
