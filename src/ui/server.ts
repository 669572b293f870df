/**
 * The session's page server: static assets of the page (built into dist/ui by `npm run build`), the event
 * stream as Server-Sent Events (the current state first, then live events in batches), and the page's
 * actions. Loopback only; every request is judged by guard.ts. Nothing here prints.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { NhError } from '../errors.js';
import type { SessionEvent } from '../events/session-event.js';
import { judgeRequest } from './guard.js';
import { ReplayState } from './replay.js';

/** What the page may ask of the session; absent for a read-only view. */
export type UiActions = Readonly<Record<string, (service: string) => Promise<string>>>;

export interface UiServerOptions {
  /** 0: a free port. */
  readonly port: number;
  readonly actions?: UiActions;
  /** The page's title. */
  readonly title: string;
}

export interface UiServer {
  /** The page's address with the session's token. */
  readonly url: string;
  readonly port: number;
  publish(event: SessionEvent): void;
  close(): Promise<void>;
}

/** Live events go out at most this often, in one message: a burst of log lines costs one write, not one each. */
const FLUSH_MS = 25;
/** Events per SSE message at most. */
const MESSAGE_EVENTS = 500;
/** A page that reads slower than this is dropped; it reconnects and gets the current state. */
const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;
const ASSETS = new Map([
  ['/assets/app.js', 'application/javascript; charset=utf-8'],
  ['/assets/app.css', 'text/css; charset=utf-8'],
]);

export function uiAssetsDir(): string {
  // dist/src/ui/server.js → dist/ui
  return fileURLToPath(new URL('../../ui/', import.meta.url));
}

export async function startUiServer(options: UiServerOptions): Promise<UiServer> {
  const token = randomBytes(18).toString('base64url');
  const assets = loadAssets(uiAssetsDir());
  const replay = new ReplayState();
  const clients = new Set<ServerResponse>();
  let pending: SessionEvent[] = [];
  let flushTimer: NodeJS.Timeout | undefined;
  let port = 0;

  const flush = () => {
    flushTimer = undefined;
    if (pending.length === 0) return;
    // In messages of a bounded size: the page parses each in one task, and a key pressed meanwhile waits for it.
    let message = '';
    for (let i = 0; i < pending.length; i += MESSAGE_EVENTS) {
      const chunk = pending.slice(i, i + MESSAGE_EVENTS);
      message += `id: ${chunk.at(-1)!.seq}\ndata: ${JSON.stringify(chunk)}\n\n`;
    }
    pending = [];
    for (const client of clients) {
      if (client.writableLength > MAX_BUFFERED_BYTES) client.destroy();
      else client.write(message);
    }
  };

  const server: Server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const verdict = judgeRequest(
      { method: request.method ?? 'GET', host: request.headers.host, origin: request.headers.origin, token: header(request, 'x-nh-token') ?? url.searchParams.get('token') },
      port,
      token,
    );
    if (!verdict.ok) return send(response, verdict.status, 'text/plain; charset=utf-8', `${verdict.reason}\n`);
    if (request.method === 'GET' && url.pathname === '/') {
      return send(response, 200, 'text/html; charset=utf-8', pageHtml(assets.html, token, options));
    }
    if (request.method === 'GET' && ASSETS.has(url.pathname)) {
      const asset = assets.files.get(url.pathname)!;
      const gzip = /\bgzip\b/.test(header(request, 'accept-encoding') ?? '');
      return send(response, 200, ASSETS.get(url.pathname)!, gzip ? asset.gzip : asset.plain, gzip ? { 'content-encoding': 'gzip' } : {});
    }
    if (request.method === 'GET' && url.pathname === '/events') {
      response.writeHead(200, { ...SECURITY_HEADERS, 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
      // What is queued goes to the pages already here first: this page's start below covers it.
      flush();
      // A reconnect after a short drop gets what it missed; otherwise the current state replaces what the page held.
      const missed = replay.since(Number(header(request, 'last-event-id') ?? Number.NaN));
      const start = missed ? { event: 'resume', events: missed } : { event: 'reset', events: replay.events() };
      response.write(`retry: 1000\nid: ${replay.lastSeq}\nevent: ${start.event}\ndata: ${JSON.stringify(start.events)}\n\n`);
      clients.add(response);
      request.on('close', () => clients.delete(response));
      return;
    }
    if (request.method === 'POST' && url.pathname.startsWith('/api/actions/')) {
      void runAction(request, response, url.pathname.slice('/api/actions/'.length), options.actions);
      return;
    }
    return send(response, 404, 'text/plain; charset=utf-8', 'not found\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      reject(
        error.code === 'EADDRINUSE'
          ? new NhError('NH_PORT_IN_USE', `the page's port ${options.port} on 127.0.0.1 is already in use`, { hint: 'pick another with --ui-port, or leave it out for a free one', cause: error })
          : error,
      );
    });
    server.listen(options.port, '127.0.0.1', () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/?token=${token}`,
    port,
    publish(event) {
      replay.add(event);
      pending.push(event);
      // The end goes out at once: nh exits right after it.
      if (event.type === 'session-end') flush();
      else flushTimer ??= setTimeout(flush, FLUSH_MS);
    },
    async close() {
      if (flushTimer) clearTimeout(flushTimer);
      flush();
      for (const client of clients) client.end();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'x-content-type-options': 'nosniff',
  // The token is in the page's URL: no request may carry it elsewhere.
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
} as const;

function send(response: ServerResponse, status: number, type: string, body: string | Buffer, extra: Record<string, string> = {}): void {
  response.writeHead(status, { ...SECURITY_HEADERS, 'content-type': type, 'cache-control': 'no-store', ...extra });
  response.end(body);
}

function header(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

async function runAction(request: IncomingMessage, response: ServerResponse, name: string, actions: UiActions | undefined): Promise<void> {
  const json = 'application/json; charset=utf-8';
  // A form post from another site cannot set this type without a preflight, which nh never answers.
  if (!(header(request, 'content-type') ?? '').startsWith('application/json')) return send(response, 415, json, JSON.stringify({ error: 'send application/json' }));
  const action = actions && Object.hasOwn(actions, name) ? actions[name] : undefined;
  if (!action) return send(response, 404, json, JSON.stringify({ error: actions ? `no action \`${name}\`` : 'this view is read-only' }));
  let body = '';
  for await (const chunk of request) {
    body += String(chunk);
    if (body.length > 4096) return send(response, 413, json, JSON.stringify({ error: 'request too large' }));
  }
  let service: unknown;
  try {
    service = (JSON.parse(body) as { service?: unknown }).service;
  } catch {
    service = undefined;
  }
  if (typeof service !== 'string') return send(response, 400, json, JSON.stringify({ error: 'the body must be {"service": NAME}' }));
  try {
    send(response, 200, json, JSON.stringify({ message: await action(service) }));
  } catch (error) {
    const nh = error instanceof NhError ? error : undefined;
    send(response, nh ? 409 : 500, json, JSON.stringify({ error: error instanceof Error ? error.message : String(error), code: nh?.code, hint: nh?.hint }));
  }
}

interface Assets {
  readonly html: string;
  readonly files: Map<string, { readonly plain: Buffer; readonly gzip: Buffer }>;
}

function loadAssets(dir: string): Assets {
  try {
    const files = new Map<string, { plain: Buffer; gzip: Buffer }>();
    for (const path of ASSETS.keys()) {
      const file = dir + path.slice('/assets/'.length);
      files.set(path, { plain: readFileSync(file), gzip: readFileSync(`${file}.gz`) });
    }
    return { html: readFileSync(`${dir}index.html`, 'utf8'), files };
  } catch (error) {
    throw new NhError('NH_UI_MISSING', `the page's files are missing in ${dir}`, { hint: 'run `npm run build` (it builds the page), or pass --no-ui', cause: error });
  }
}

/** The page with the session's token in its asset URLs and a meta tag, and whether actions are offered. */
function pageHtml(template: string, token: string, options: UiServerOptions): string {
  const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  return template
    .replaceAll('__TOKEN__', token)
    .replaceAll('__TITLE__', escape(options.title))
    .replaceAll('__ACTIONS__', escape(Object.keys(options.actions ?? {}).join(',')));
}
