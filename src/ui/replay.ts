/**
 * What a page that connects (or reconnects) is sent first (pure): the current state of the session as the
 * events that made it, without their history. Per kind of event the latest one counts (the latest status,
 * each service's latest sync, reload, error…); log lines and notices keep a bounded tail. A page that
 * reconnects after a short drop (it says the last seq it got) is sent just what it missed instead, while
 * the recent events still hold all of it: no line twice, none lost.
 */
import type { SessionEvent } from '../events/session-event.js';

export const REPLAYED_LOG_LINES = 5_000;
const REPLAYED_NOTICES = 100;
/** Events kept for a page that comes back: a few seconds of a busy session. */
export const RESUMABLE_EVENTS = 20_000;

export class ReplayState {
  private readonly latest = new Map<string, SessionEvent>();
  private readonly logs: SessionEvent[] = [];
  private readonly notices: SessionEvent[] = [];
  private readonly recent: SessionEvent[] = [];

  constructor(
    private readonly maxLogLines = REPLAYED_LOG_LINES,
    private readonly maxRecent = RESUMABLE_EVENTS,
  ) {}

  /** The seq of the newest event (0 before any). */
  get lastSeq(): number {
    return this.recent.at(-1)?.seq ?? 0;
  }

  /** The events after `seq`, or undefined when some of them are no longer held (or seq is not one of ours). */
  since(seq: number): SessionEvent[] | undefined {
    if (!Number.isInteger(seq) || seq < 0 || seq > this.lastSeq) return undefined;
    const first = this.recent[0];
    if (!first || first.seq > seq + 1) return seq === this.lastSeq ? [] : undefined;
    return this.recent.slice(seq + 1 - first.seq);
  }

  add(event: SessionEvent): void {
    pushBounded(this.recent, event, this.maxRecent);
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
