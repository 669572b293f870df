/**
 * The event stream of one `nh up` and where it goes: NDJSON on stdout (`--output json`) or the terminal view,
 * and the session's page (unless --no-ui or --detach). The page's actions reach the dev loop once it runs.
 */
import { EventStream, type SessionEventBody } from '../../events/session-event.js';
import { NhError, UsageError } from '../../errors.js';
import type { UiActions, UiServer } from '../../ui/server.js';
import { flag, stringOption, type ParsedCommandLine } from '../args.js';
import type { CliContext } from '../context.js';
import { LiveStatus } from '../render/live-status.js';
import { outputFormat } from './dev-session.js';

/** What the page's actions do, once the dev loop runs: each resolves with a sentence for the page. */
export type SessionActions = Readonly<Record<(typeof ACTIONS)[number], (service: string) => Promise<string>>>;

const ACTIONS = ['restart', 'resync', 'enter', 'leave', 'debug'] as const;

export interface UpSession {
  readonly stream: EventStream;
  readonly json: boolean;
  /** The page's address (with its token), when it is served. */
  readonly uiUrl: string | undefined;
  /** The terminal view, once the session started (text output only). */
  view(): LiveStatus | undefined;
  /** Connects the page's actions to the running loop (undefined: it stopped). */
  attach(actions: SessionActions | undefined): void;
  /** Says the session ended (the page shows it) and stops serving the page. */
  end(body: Extract<SessionEventBody, { type: 'session-end' }>): Promise<void>;
}

export async function openUpSession(ctx: CliContext, args: ParsedCommandLine): Promise<UpSession> {
  const json = outputFormat(args) === 'json';
  const stream = new EventStream(ctx.now);
  let view: LiveStatus | undefined;
  stream.subscribe((event) => {
    if (json) return ctx.terminal.out(`${JSON.stringify(event)}\n`);
    if (event.type === 'session-start') view = new LiveStatus(ctx.terminal, ctx.style, event.services.map((s) => s.name), () => process.stdout.columns);
    view?.handle(event);
  });
  let attached: SessionActions | undefined;
  const action = (name: keyof SessionActions) => async (service: string) => {
    if (!attached) throw new NhError('NH_NOT_RUNNING', 'the services are not running (yet, or any more)', { hint: 'wait until the dev loop runs' });
    return attached[name](service);
  };
  const actions: UiActions = Object.fromEntries(ACTIONS.map((name) => [name, action(name)]));
  let ui: UiServer | undefined;
  if (!flag(args.options, 'no-ui') && !flag(args.options, 'detach')) {
    const { startUiServer } = await import('../../ui/server.js');
    ui = await startUiServer({ port: uiPort(args), actions, title: 'nh up' });
    const server = ui;
    stream.subscribe((event) => server.publish(event));
  }
  return {
    stream,
    json,
    uiUrl: ui?.url,
    view: () => view,
    attach: (next) => void (attached = next),
    end: async (body) => {
      attached = undefined;
      stream.emit(body);
      view?.clear();
      await ui?.close();
    },
  };
}

export function uiPort(args: ParsedCommandLine): number {
  const text = stringOption(args.options, 'ui-port');
  if (text === undefined) return 0;
  const port = Number(text);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new UsageError(`--ui-port must be a port number (1-65535), not \`${text}\``);
  return port;
}
