/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// `nh up -o json` on a copy of examples/booking (installed by nh into a fresh namespace), watched through its
// page in Debian's Chromium (playwright-core): the three services running, an edit's sync and reload, the
// restart action (a new pid in the container), a crash with its hint, a 50,000-line log burst, requests
// without the token or from a foreign Host or Origin refused, the page saying the session ended, and every
// NDJSON line nh wrote valid against nh-events.schema.json. Times are measured and printed, never asserted.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { kubectl, useNamespace, waitFor } from '../support/cluster.js';
import { body } from '../faults/booking-session.js';
import { repoRoot } from '../../support/paths.js';
import { summary } from '../../../bench/support.js';
import { inputToPaint } from '../../../bench/input-to-paint.js';
import { bookingCopy, NdjsonSession } from './ndjson-session.js';

const namespace = useNamespace('ui');
const chromiumPath = [process.env.CHROMIUM_PATH, '/usr/lib/chromium/chromium', '/usr/bin/chromium'].find((p) => p && existsSync(p));
const noBrowser = !chromiumPath && 'chromium is not installed (scripts/ensure-chromium.sh installs it as root)';
/** Keys typed into the log search while the burst arrives, one after another's paint: an odd count for a p95. */
const BURST_KEYS = 21;

let project = '';
let nh: NdjsonSession | undefined;
let apiPort: number;
let browser: Browser | undefined;
let page: Page | undefined;
let pageUrl: string;

// The session starts in a test, not a hook: the namespace's own hook has to have run first.
test('nh up -o json installs the app and starts the session; its first event names the page', async () => {
  const copy = await bookingCopy();
  project = copy.dir;
  apiPort = copy.ports.api;
  nh = new NdjsonSession(namespace(), ['--timeout', '4m'], project);
  const start = await nh.started();
  pageUrl = start['ui'] as string;
  assert.match(pageUrl, /^http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]{20,}$/);
  if (chromiumPath) {
    browser = await chromium.launch({ executablePath: chromiumPath });
    console.log(`# browser: Chromium ${browser.version()}`);
    page = await (await browser.newContext()).newPage();
    page.on('pageerror', (error) => console.log(`page error: ${error.message}`));
  }
});

after(async () => {
  await browser?.close();
  await nh?.stop();
  if (project) rmSync(project, { recursive: true, force: true });
});

const lastOutput = () => nh!.lastOutput();
const events = () => nh!.events;

function editApi(change: (text: string) => string): void {
  const file = join(project, 'api', 'server.js');
  writeFileSync(file, change(readFileSync(file, 'utf8')));
}

const original = () => readFileSync(join(repoRoot, 'examples/booking/api/server.js'), 'utf8');

function card(service: string): string {
  return `[data-service="${service}"]`;
}

async function served(marker: string): Promise<void> {
  await waitFor(`"${marker}" served`, async () => (await body(apiPort))?.includes(marker), 180_000, 50).catch(async (error: Error) => {
    throw new Error(`${error.message}\n${lastOutput()}\n${await nh!.report()}`);
  });
}

function apiPid(): string {
  const pod = JSON.parse(kubectl(['-n', namespace(), 'get', 'pods', '-l', 'app=booking-api,nh.dev/mode=dev', '-o', 'json']).stdout) as { items: { metadata: { name: string; deletionTimestamp?: string } }[] };
  const name = pod.items.find((p) => !p.metadata.deletionTimestamp)!.metadata.name;
  return kubectl(['-n', namespace(), 'exec', name, '-c', 'api', '--', 'cat', '/tmp/.nh-run-booking-api.pid'], { allowFailure: true }).stdout.trim();
}

test('the page lists the three services running', { skip: noBrowser }, async () => {
  await page!.goto(pageUrl);
  try {
    await page!.waitForFunction(() => {
      const running = [...document.querySelectorAll('[data-service] [data-field="process"]')].filter((e) => e.textContent === 'running');
      return running.length === 3;
      // A deadline for a failing test, not a measurement: the first `go run` of booking-inventory on a loaded machine takes minutes.
    }, undefined, { timeout: 900_000 });
  } catch (error) {
    throw new Error(`${(error as Error).message}\n${lastOutput()}`);
  }
  for (const service of ['booking-web', 'booking-api', 'booking-inventory']) assert.equal(await page!.locator(card(service)).count(), 1);
});

test('requests without the token, from a foreign Host or with a foreign Origin are refused', async () => {
  const url = new URL(pageUrl);
  const withoutToken = await fetch(`${url.origin}/`);
  assert.equal(withoutToken.status, 403);
  assert.equal((await fetch(`${url.origin}/events`)).status, 403);
  const wrongToken = await fetch(`${url.origin}/?token=${'x'.repeat(24)}`);
  assert.equal(wrongToken.status, 403);
  const status = (headers: Record<string, string>, method = 'GET', path = `/${url.search}`) =>
    new Promise<number>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: Number(url.port), path, method, headers }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end(method === 'POST' ? JSON.stringify({ service: 'booking-api' }) : undefined);
    });
  assert.equal(await status({ host: `evil.example:${url.port}` }), 403, 'foreign Host (DNS rebinding)');
  assert.equal(await status({ host: url.host }), 200, 'the page itself');
  const token = url.searchParams.get('token')!;
  assert.equal(await status({ host: url.host, origin: 'http://evil.example', 'content-type': 'application/json', 'x-nh-token': token }, 'POST', '/api/actions/restart'), 403, 'foreign Origin (CSRF)');
  assert.equal(await status({ host: url.host, origin: url.origin, 'content-type': 'application/json' }, 'POST', '/api/actions/restart'), 403, 'an action without the token');
});

test('an edit shows its sync and reload on the page', { skip: noBrowser }, async () => {
  const marker = `booking-api edited ${Date.now()}`;
  const reloadsBefore = events().filter((e) => e.type === 'reload').length;
  editApi((text) => text.replace(/^const SERVICE = .*$/m, `const SERVICE = '${marker}';`));
  await served(marker);
  const servedAt = Date.now();
  // The page's reload line changes to this edit's (its time is the reload event's).
  await waitFor('the reload event', () => events().filter((e) => e.type === 'reload').length > reloadsBefore, 60_000, 20);
  const reload = events().filter((e) => e.type === 'reload').at(-1)!;
  const shown = `saved→synced ${reload['saveToSyncedMs'] as number} ms, synced→restarted ${reload['syncedToRestartedMs'] as number} ms`;
  await page!.waitForFunction(({ selector, text }) => document.querySelector(selector)?.textContent?.includes(text) ?? false, { selector: `${card('booking-api')} [data-field="reload"]`, text: shown }, { timeout: 30_000 });
  console.log(`# edit: new response served → shown on the page after ${Date.now() - servedAt} ms (${shown})`);
  assert.match((await page!.textContent(`${card('booking-api')} [data-field="sync"]`))!, /last batch 1 file/);
});

test('the restart action restarts the process: a new pid in the container', { skip: noBrowser }, async () => {
  const before = apiPid();
  assert.match(before, /^\d+$/);
  await page!.click(`${card('booking-api')} button[data-action="restart"]`);
  await page!.waitForFunction((selector) => document.querySelector(selector)?.textContent === 'booking-api restarted', `${card('booking-api')} [data-field="action-result"]`, { timeout: 60_000 });
  const after = await waitFor('a new pid', () => {
    const pid = apiPid();
    return /^\d+$/.test(pid) && pid !== before ? pid : undefined;
  }, 30_000, 200);
  assert.notEqual(after, before);
});

test('a crash shows the error and its hint on the page', { skip: noBrowser }, async () => {
  editApi((text) => `console.error('booking-api cannot start: the test made it crash');\nprocess.exit(3);\n${text}`);
  const error = `${card('booking-api')} [data-field="error"]`;
  await page!.waitForFunction((selector) => /exited with code 3/.test(document.querySelector(selector)?.textContent ?? ''), error, { timeout: 120_000 });
  assert.match((await page!.textContent(error))!, /hint: nh restarts it on the next change/);
  assert.equal(await page!.textContent(`${card('booking-api')} [data-field="process"]`), 'crashed (exit 3)');
});

test('a 50,000-line log burst: the page stays responsive and holds the newest lines', { skip: noBrowser }, async () => {
  const marker = `burst done ${Date.now()}`;
  editApi(() => original().replace(/^const SERVICE = .*$/m, `const SERVICE = '${marker}';\nfor (let i = 0; i < 50000; i++) console.log('burst line ' + i);`));
  const lastLine = () => events().some((e) => e.type === 'log' && e['line'] === 'burst line 49999');
  await waitFor('the burst to begin', () => events().some((e) => e.type === 'log' && e['line'] === 'burst line 0'), 180_000, 10);
  const samples = await inputToPaint(page!, BURST_KEYS);
  const during = !lastLine();
  await served(marker);
  assert.equal(samples.length, BURST_KEYS, 'every key was drawn');
  const { p50, p95, max } = summary(samples);
  console.log(`# input-to-paint during the 50,000-line burst: p50 ${p50.toFixed(1)} ms, p95 ${p95.toFixed(1)} ms, max ${max.toFixed(1)} ms (${samples.length} keys; ${during ? 'all while the burst arrived' : 'the burst ended before the last key'}; in order: ${samples.map((v) => v.toFixed(0)).join(' ')})`);
  await page!.fill('input[type="search"]', 'burst line 49999');
  await page!.waitForFunction(() => /^1 of /.test(document.querySelector('[data-field="log-count"]')?.textContent ?? ''), undefined, { timeout: 30_000 });
  assert.equal(await page!.textContent('.scroller .line .text'), 'burst line 49999');
  await waitFor('the last line of the burst among the events on stdout', lastLine, 60_000, 50);
  const at = (line: string) => Date.parse(String(events().find((e) => e.type === 'log' && e['line'] === line)!['time']));
  console.log(`# the burst reached nh's events in ${((at('burst line 49999') - at('burst line 0')) / 1000).toFixed(1)} s`);
  // The buffer is bounded: the oldest lines of the burst are gone.
  const held = Number(/of ([\d,]+) lines/.exec((await page!.textContent('[data-field="log-count"]'))!)![1]!.replaceAll(',', ''));
  assert.ok(held >= 20_000 && held <= 22_000, `${held} lines held`);
});

test('after Ctrl-C the page says the session ended, and every NDJSON line nh wrote is a valid event', async () => {
  const code = await nh!.stop('SIGINT');
  assert.equal(code, 0, lastOutput());
  if (page) await page.waitForSelector('[data-field="ended"]', { timeout: 30_000 });
  assert.deepEqual(nh!.unparsable, [], 'stdout holds only JSON lines');
  assert.deepEqual(nh!.invalidEvents().slice(0, 5), []);
  assert.equal(events().at(-1)!.type, 'session-end');
  const seqs = events().map((e) => e['seq'] as number);
  assert.deepEqual(seqs, seqs.map((_, i) => i + 1), 'seq counts 1, 2, 3…');
  const types = new Set(events().map((e) => e.type));
  for (const type of ['session-start', 'plan', 'dev-mode', 'status', 'process', 'sync', 'forward', 'log', 'notice', 'session-end']) assert.ok(types.has(type), `a ${type} event`);
  if (page) for (const type of ['reload', 'error']) assert.ok(types.has(type), `a ${type} event`);
  console.log(`# ${events().length} events on stdout, all valid`);
});
