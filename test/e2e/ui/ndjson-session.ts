// `nh up -o json` on a copy of examples/booking as the page's e2e tests drive it: the copy (with free local
// ports), the NDJSON events nh writes, and a check of every line against nh-events.schema.json.
import type { ChildProcess } from 'node:child_process';
import { cpSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from '../support/cluster.js';
import { freePort, spawnNh } from '../support/nh.js';
import { repoRoot } from '../../support/paths.js';
import { eventValidator } from '../../support/event-schema.js';
import { tempDir } from '../../support/temp-dir.js';

export interface JsonEvent { readonly type: string; readonly [key: string]: unknown }

export interface BookingCopy {
  readonly dir: string;
  readonly ports: { readonly web: number; readonly api: number; readonly inventory: number; readonly apiDebug: number };
}

/** examples/booking in a temporary directory, its forwards (and booking-api's debug port) on free local ports. */
export async function bookingCopy(): Promise<BookingCopy> {
  const dir = tempDir('nh-ui-');
  cpSync(join(repoRoot, 'examples/booking'), dir, { recursive: true });
  const ports = { web: await freePort(), api: await freePort(), inventory: await freePort(), apiDebug: await freePort() };
  const config = join(dir, '.nocalhost', 'config.yaml');
  writeFileSync(config, readFileSync(config, 'utf8')
    .replace('"18080:8080"', `"${ports.web}:8080"`).replace('"18081:8080"', `"${ports.api}:8080"`).replace('"18082:8080"', `"${ports.inventory}:8080"`)
    .replace('--inspect=0.0.0.0:9230', `--inspect=0.0.0.0:${ports.apiDebug}`).replace('remoteDebugPort: 9230', `remoteDebugPort: ${ports.apiDebug}`));
  return { dir, ports };
}

export class NdjsonSession {
  readonly events: JsonEvent[] = [];
  readonly unparsable: string[] = [];
  stderr = '';
  readonly child: ChildProcess;

  /** Where Node writes nh's diagnostic report on SIGUSR2 (report()). */
  private readonly reports = tempDir('nh-report-');
  private readonly startedAt = Date.now();

  constructor(namespace: string, args: readonly string[], cwd: string) {
    const nodeOptions = [process.env['NODE_OPTIONS'], '--report-on-signal', `--report-directory=${this.reports}`].filter(Boolean).join(' ');
    this.child = spawnNh(namespace, ['up', '-o', 'json', ...args], { cwd, env: { NODE_OPTIONS: nodeOptions } });
    let pending = '';
    this.child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const line of lines) {
        try {
          this.events.push(JSON.parse(line) as JsonEvent);
        } catch {
          this.unparsable.push(line);
        }
      }
    });
    this.child.stderr!.setEncoding('utf8').on('data', (d: string) => (this.stderr += d));
  }

  /** The session-start event, once nh wrote it. */
  started(): Promise<JsonEvent> {
    return waitFor('the session-start event', () => this.events.find((e) => e.type === 'session-start') ?? (this.child.exitCode !== null ? Promise.reject(new Error(`nh exited: ${this.stderr}`)) : undefined), 120_000, 100);
  }

  /** For a failure: nh's stderr, its last events, and its last events other than log lines (a burst hides those). */
  lastOutput(): string {
    const line = (e: JsonEvent) => JSON.stringify(e).slice(0, 300);
    const logs = this.events.filter((e) => e.type === 'log');
    const others = this.events.filter((e) => e.type !== 'log').slice(-12).map(line).join('\n');
    const span = logs.length ? `${logs.length} log lines, ${String(logs[0]!['time'])} to ${String(logs.at(-1)!['time'])}` : 'no log lines';
    return `stderr:\n${this.stderr.slice(-3000)}\nlast events:\n${this.events.slice(-15).map(line).join('\n')}\nlast events other than log lines (${span}):\n${others}\nnh ${this.child.exitCode === null && this.child.signalCode === null ? 'still runs' : `exited (${this.child.exitCode ?? this.child.signalCode})`}, at ${new Date().toISOString()}`;
  }

  /**
   * For a failure where nh seems to have stopped: Node's diagnostic report, asked for with SIGUSR2. Node writes it
   * from the event loop, so how long it takes says whether nh's JavaScript was stuck; its handles say what nh
   * still had open (sockets, timers).
   */
  async report(): Promise<string> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return 'no report: nh has exited';
    const asked = Date.now();
    this.child.kill('SIGUSR2');
    let file: string | undefined;
    while (!(file = readdirSync(this.reports).find((f) => f.endsWith('.json'))) && Date.now() - asked < 30_000) await new Promise((r) => setTimeout(r, 100));
    if (!file) return 'no report within 30 s of SIGUSR2: nh\'s event loop did not run';
    const waited = ((Date.now() - asked) / 1000).toFixed(1);
    const report = JSON.parse(readFileSync(join(this.reports, file), 'utf8')) as {
      libuv?: { type: string; is_active?: boolean; remoteEndpoint?: { port?: number }; localEndpoint?: { port?: number }; loopIdleTimeSeconds?: number }[];
    };
    const libuv = report.libuv ?? [];
    const handles = new Map<string, number>();
    for (const h of libuv) if (h.is_active) handles.set(h.type, (handles.get(h.type) ?? 0) + 1);
    const sockets = libuv.filter((h) => h.type === 'tcp' && h.is_active).map((h) => `${h.localEndpoint?.port ?? '?'}→${h.remoteEndpoint?.port ?? '?'}`);
    return [
      `nh's diagnostic report came ${waited} s after SIGUSR2 (${file})`,
      `active handles: ${[...handles].map(([type, n]) => `${type} ${n}`).join(', ')}`,
      `tcp: ${sockets.join(' ')}`,
      `the event loop idle ${libuv.find((h) => h.type === 'loop')?.loopIdleTimeSeconds?.toFixed(1) ?? '?'} s of nh's ${((Date.now() - this.startedAt) / 1000).toFixed(0)} s`,
    ].join('\n');
  }

  /** Sends the signal and waits for nh to exit (SIGKILL after 20 s); resolves with its exit code. */
  async stop(signal: NodeJS.Signals = 'SIGINT'): Promise<number | null> {
    const child = this.child;
    if (child.exitCode === null && child.signalCode === null) {
      child.kill(signal);
      await Promise.race([new Promise((resolve) => child.once('exit', resolve)), new Promise((resolve) => setTimeout(resolve, 20_000))]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    return child.exitCode;
  }

  /** Each event that does not validate against nh-events.schema.json, with why. */
  invalidEvents(): string[] {
    return invalidEvents(this.events);
  }
}

export function invalidEvents(events: readonly JsonEvent[]): string[] {
  const validate = eventValidator();
  return events.filter((event) => !validate(event)).map((event) => `${JSON.stringify(event).slice(0, 300)}: ${JSON.stringify(validate.errors)}`);
}
