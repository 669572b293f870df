/**
 * Output of the foreground `nh up`: log lines prefixed with the service name in a stable color, and on a
 * terminal one status line kept at the bottom. Before a log line is printed the status line is erased and
 * afterwards drawn again, so the two never mix. Without a terminal there is no status line: status changes
 * are printed as plain lines, only when they change.
 */
import { describeOutage, describeProcess, renderStatusLine } from '../../devloop/status-line.js';
import type { SessionEvent, ServiceView } from '../../events/session-event.js';
import type { Style, Terminal } from '../terminal.js';

/** Distinct 256-color-free ANSI colors for prefixes: cyan, magenta, blue, yellow, green, bright variants. */
const PREFIX_COLORS = [36, 35, 34, 33, 32, 96, 95, 94, 93, 92] as const;

export function prefixColor(index: number): number {
  return PREFIX_COLORS[index % PREFIX_COLORS.length]!;
}

export class LiveStatus {
  private statusLine = '';
  private lastPlain = new Map<string, string>();
  private lastOutage: string | undefined;

  constructor(
    private readonly terminal: Terminal,
    private readonly style: Style,
    private readonly services: readonly string[],
    /** The terminal's width now (it may be resized while nh runs). */
    private readonly columns: () => number | undefined,
  ) {}

  private prefix(service: string): string {
    const pad = Math.max(...this.services.map((s) => s.length));
    const label = service.padEnd(pad);
    const index = this.services.indexOf(service);
    return this.terminal.color && index >= 0 ? `\u001b[${prefixColor(index)}m${label}\u001b[39m` : label;
  }

  /** Renders the session's stream; what the terminal shows elsewhere (plan, dev mode: listr2) is skipped. */
  handle(event: SessionEvent): void {
    switch (event.type) {
      case 'log':
        return this.line(`${this.prefix(event.service)} │ ${event.line}`);
      case 'reload':
        return this.line(
          `${this.prefix(event.service)} │ ${this.style.green('↻')} ${event.files} file${event.files === 1 ? '' : 's'}: saved→synced ${event.saveToSyncedMs} ms, synced→restarted ${event.syncedToRestartedMs} ms`,
        );
      case 'notice': {
        const mark = event.level === 'warn' ? this.style.yellow('!') : this.style.dim('·');
        return this.line(`${this.who(event.service)}${mark} ${event.message}`);
      }
      case 'error':
        return this.line(`${this.who(event.service)}${this.style.red('✖')} ${event.message}${event.hint ? `; ${event.hint}` : ''}`);
      case 'debugger':
        return this.line(`${this.style.green('⚑')} ${event.service}: debugger ready: ${event.attach}`);
      case 'service':
        return this.line(`${this.prefix(event.service)} │ ${event.change === 'joined' ? `joined the session${event.debug ? ' under the debugger' : ''}` : 'left the session'}`);
      case 'status': {
        const waiting = event.waitingFor && describeOutage(event.waitingFor, new Date(event.waitingFor.since).toTimeString().slice(0, 8));
        return this.status(event.services, waiting);
      }
      case 'session-start':
        if (event.ui) this.line(`${this.style.dim('·')} the session's page: ${event.ui}`);
        return;
      default:
        return;
    }
  }

  private who(service: string | undefined): string {
    return service ? `${this.prefix(service)} │ ` : '';
  }

  /** A line of nh's own (hints, attach instructions), kept clear of the status line too. */
  line(text: string): void {
    if (!this.terminal.interactive) {
      this.terminal.out(`${text}\n`);
      return;
    }
    this.terminal.out(`\r\u001b[2K${text}\n${this.statusLine}`);
  }

  /** Erases the status line for good (before the final messages). */
  clear(): void {
    if (this.terminal.interactive && this.statusLine) this.terminal.out('\r\u001b[2K');
    this.statusLine = '';
  }

  private status(services: readonly ServiceView[], waiting: string | undefined): void {
    if (this.terminal.interactive) {
      this.statusLine = renderStatusLine(services, this.style, Math.max(40, this.columns() ?? 120), waiting);
      this.terminal.out(`\r\u001b[2K${this.statusLine}`);
      return;
    }
    // Once per outage: the retries behind it are not news.
    if (waiting && waiting !== this.lastOutage) this.terminal.out(`${this.style.yellow('⧗')} ${waiting}\n`);
    this.lastOutage = waiting;
    for (const service of services) {
      const forwards = service.forwards.map((f) => `:${f.local} ${f.state.kind}`).join(', ');
      const text = `${describeProcess(service.process).text}, sync ${service.sync}${forwards ? `, ${forwards}` : ''}`;
      if (this.lastPlain.get(service.name) === text) continue;
      this.lastPlain.set(service.name, text);
      this.terminal.out(`${this.prefix(service.name)} │ status: ${text}\n`);
    }
  }
}
