/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// The page's dev-mode actions and its connection, against `nh up booking-api -o json` on a copy of
// examples/booking (installed by nh into a fresh namespace), in Debian's Chromium (playwright-core):
// - enter dev mode for booking-web from its card (first refused: its local port is taken, the error and hint on
//   the card), then leave it: the Deployment is back exactly as before (kubectl), its forward gone; `nh ui`'s
//   read-only page of the namespace, open beside it, shows booking-web come and go without a reload;
// - debug booking-api: its process runs again under the inspector, whose forwarded port answers;
// - a page behind a loopback TCP proxy that the test cuts: it says it reconnects, and after the drop holds
//   every line printed meanwhile exactly once;
// - nh killed outright: the page says the session ended;
// - `nh up SERVICE --detach -o json`: NDJSON too; every line of both runs valid against nh-events.schema.json.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { chromium, type Browser, type Page } from 'playwright-core';
import { kubectl, useNamespace, waitFor } from '../support/cluster.js';
import { comparable, getObject, runNh, servedBody, spawnNh } from '../support/nh.js';
import { startTcpProxy } from '../support/tcp-proxy.js';
import { bookingCopy, invalidEvents, NdjsonSession, type BookingCopy, type JsonEvent } from './ndjson-session.js';

const namespace = useNamespace('ui2-actions');
const chromiumPath = [process.env.CHROMIUM_PATH, '/usr/lib/chromium/chromium', '/usr/bin/chromium'].find((p) => p && existsSync(p));
const noBrowser = !chromiumPath && 'chromium is not installed (scripts/ensure-chromium.sh installs it as root)';

let project: BookingCopy | undefined;
let nh: NdjsonSession | undefined;
let browser: Browser | undefined;
let page: Page | undefined;
let pageUrl = '';
let webBefore: unknown;
let view: { nh: ChildProcess; page: Page } | undefined;

const card = (service: string) => `[data-service="${service}"]`;

async function waitOnPage(what: string, predicate: (arg: { selector: string; text: string }) => boolean, arg: { selector: string; text: string }, timeout = 180_000): Promise<void> {
  try {
    await page!.waitForFunction(predicate, arg, { timeout });
  } catch (error) {
    throw new Error(`${what}: ${(error as Error).message}\n${nh!.lastOutput()}`);
  }
}

const hasText = ({ selector, text }: { selector: string; text: string }) => (document.querySelector(selector)?.textContent ?? '').includes(text);

test('nh up booking-api: the app installed, the other services offered on the page', async () => {
  project = await bookingCopy();
  webBefore = undefined;
  nh = new NdjsonSession(namespace(), ['booking-api', '--timeout', '4m'], project.dir);
  const start = await nh.started();
  pageUrl = start['ui'] as string;
  assert.deepEqual((start['others'] as { name: string }[]).map((s) => s.name).sort(), ['booking-inventory', 'booking-web']);
  if (!chromiumPath) return;
  browser = await chromium.launch({ executablePath: chromiumPath });
  page = await (await browser.newContext()).newPage();
  page.on('pageerror', (error) => console.log(`page error: ${error.message}`));
  await page.goto(pageUrl);
  await waitOnPage('booking-api running', hasText, { selector: `${card('booking-api')} [data-field="process"]`, text: 'running' }, 600_000);
  assert.equal(await page.getAttribute(card('booking-web'), 'data-in-session'), 'false');
  assert.ok(nh.events.some((e) => e.type === 'app' && e['status'] === 'progress'), 'the install reported its steps');
  assert.ok(nh.events.some((e) => e.type === 'app' && e['status'] === 'done'), 'and its outcome');
  // `nh ui` beside the session: its page lists what is in dev mode in the namespace.
  const ui = spawnNh(namespace(), ['ui']);
  let printed = '';
  ui.stdout!.setEncoding('utf8').on('data', (d: string) => (printed += d));
  const url = await waitFor('nh ui to print its address', () => /http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]+/.exec(printed)?.[0], 60_000, 50);
  view = { nh: ui, page: await (await browser.newContext()).newPage() };
  await view.page.goto(url);
  await view.page.waitForSelector(card('booking-api'), { timeout: 60_000 });
  assert.equal(await view.page.locator(card('booking-web')).count(), 0);
});

after(async () => {
  if (view && view.nh.exitCode === null) view.nh.kill('SIGKILL');
  await browser?.close();
  await nh?.stop();
  if (project) rmSync(project.dir, { recursive: true, force: true });
});

test('enter dev mode for booking-web from its card: a taken port is shown with its hint, then it runs; leave restores it exactly', { skip: noBrowser }, async () => {
  webBefore = comparable(getObject(namespace(), 'deployment', 'booking-web'));
  const taken: Server = createServer();
  await new Promise<void>((resolve) => taken.listen(project!.ports.web, '127.0.0.1', resolve));
  try {
    await page!.click(`${card('booking-web')} button[data-action="enter"]`);
    await waitOnPage('the refusal on the card', hasText, { selector: `${card('booking-web')} [data-field="action-result"]`, text: `local port ${project!.ports.web} is already in use` });
    assert.match((await page!.textContent(`${card('booking-web')} [data-field="action-result"]`))!, /— (stop that process|find the process).*change the local side of the portForward/);
  } finally {
    await new Promise((resolve) => taken.close(resolve));
  }
  // Dev mode was entered before the port was found taken: the second try joins the session as it is.
  await page!.click(`${card('booking-web')} button[data-action="enter"]`);
  await waitOnPage('booking-web running', hasText, { selector: `${card('booking-web')} [data-field="process"]`, text: 'running' });
  assert.equal(await page!.getAttribute(card('booking-web'), 'data-in-session'), 'true');
  const web = getObject(namespace(), 'deployment', 'booking-web') as { metadata: { annotations?: Record<string, string> } };
  assert.ok(web.metadata.annotations?.['nh.dev/state'], 'booking-web is in dev mode on the cluster');
  await waitFor('booking-web served through its forward', async () => (await servedBody(project!.ports.web)) !== undefined, 60_000, 200);
  assert.ok(nh!.events.some((e) => e.type === 'service' && e['service'] === 'booking-web' && e['change'] === 'joined'));
  await view!.page.waitForSelector(card('booking-web'), { timeout: 30_000 });
  assert.match((await view!.page.textContent(`${card('booking-web')} [data-field="dev-mode"]`))!, /in dev mode by e2e@test since/);

  await page!.click(`${card('booking-web')} button[data-action="leave"]`);
  await waitOnPage('booking-web left', hasText, { selector: `${card('booking-web')} [data-field="action-result"]`, text: 'booking-web left dev mode: restored to its original' });
  assert.equal(await page!.getAttribute(card('booking-web'), 'data-in-session'), 'false');
  assert.deepEqual(comparable(getObject(namespace(), 'deployment', 'booking-web')), webBefore, 'kubectl get shows the Deployment as it was');
  const devPods = kubectl(['-n', namespace(), 'get', 'pods', '-l', 'app=booking-web,nh.dev/mode=dev', '-o', 'name']).stdout.trim();
  assert.equal(devPods, '', 'no dev pod of booking-web');
  assert.equal(await servedBody(project!.ports.web), undefined, 'its forward is closed');
  await view!.page.waitForSelector(card('booking-web'), { state: 'detached', timeout: 30_000 });
  view!.nh.kill('SIGINT');
  await view!.page.waitForSelector('[data-field="ended"]', { timeout: 30_000 });
});

test('debug booking-api from its card: it runs under the inspector and the debug port answers', { skip: noBrowser }, async () => {
  await page!.click(`${card('booking-api')} button[data-action="debug"]`);
  const port = project!.ports.apiDebug;
  await waitOnPage('the debugger ready on the card', hasText, { selector: `${card('booking-api')} [data-field="debug"]`, text: `ready on 127.0.0.1:${port}` });
  assert.match((await page!.textContent(`${card('booking-api')} [data-field="debug"]`))!, /attach/);
  const version = await (await fetch(`http://127.0.0.1:${port}/json/version`)).json() as { Browser?: string };
  assert.match(version.Browser ?? '', /^node\.js\//, `the inspector answers: ${JSON.stringify(version)}`);
  await waitOnPage('booking-api running again', hasText, { selector: `${card('booking-api')} [data-field="process"]`, text: 'running' });
  assert.ok(nh!.events.some((e) => e.type === 'service' && e['service'] === 'booking-api' && e['debug'] === true));
});

test('a page behind a dropped connection reconnects and holds every line printed meanwhile exactly once', { skip: noBrowser }, async () => {
  const target = new URL(pageUrl);
  const proxy = await startTcpProxy(Number(target.port), (chunk) => Buffer.from(chunk.toString('latin1').replaceAll(`127.0.0.1:${proxy.port}`, target.host), 'latin1'));
  const context = await browser!.newContext();
  const behind = await context.newPage();
  try {
    await behind.goto(`http://127.0.0.1:${proxy.port}/${target.search}`);
    await behind.waitForFunction(() => /live/.test(document.querySelector('[data-field="connection"]')?.textContent ?? ''), undefined, { timeout: 60_000 });
    proxy.cut();
    await behind.waitForFunction(() => /reconnecting/.test(document.querySelector('[data-field="connection"]')?.textContent ?? ''), undefined, { timeout: 30_000 });
    // While the page is cut off, booking-api (hot reload) prints 200 numbered lines.
    const file = join(project!.dir, 'api', 'server.js');
    writeFileSync(file, `for (let i = 0; i < 200; i++) console.log('dropped-line ' + i);\n${readFileSync(file, 'utf8')}`);
    await waitFor('the lines printed', () => nh!.events.some((e: JsonEvent) => e.type === 'log' && e['line'] === 'dropped-line 199'), 120_000, 50);
    proxy.restore();
    await behind.waitForFunction(() => /live/.test(document.querySelector('[data-field="connection"]')?.textContent ?? ''), undefined, { timeout: 30_000 });
    await behind.fill('input[type="search"]', 'dropped-line');
    await behind.waitForFunction(() => /^200 of /.test(document.querySelector('[data-field="log-count"]')?.textContent ?? ''), undefined, { timeout: 30_000 }).catch(async (error: Error) => {
      throw new Error(`${error.message}: the page shows "${await behind.textContent('[data-field="log-count"]')}"`);
    });
    const shown = await behind.evaluate(() => [...document.querySelectorAll('.scroller .line .text')].map((e) => e.textContent));
    assert.equal(new Set(shown).size, shown.length, 'no line twice among those drawn');
  } finally {
    await context.close();
    await proxy.close();
  }
});

test('nh killed outright: the page says the session ended; every NDJSON line was a valid event', async () => {
  await nh!.stop('SIGKILL');
  if (page) await page.waitForSelector('[data-field="ended"]', { timeout: 60_000 });
  if (page) assert.match((await page.textContent('[data-field="ended"]'))!, /nh does not answer any more/);
  assert.deepEqual(nh!.unparsable, [], 'stdout holds only JSON lines');
  assert.deepEqual(nh!.invalidEvents().slice(0, 5), []);
  const types = new Set(nh!.events.map((e) => e.type));
  for (const type of ['session-start', 'app', 'plan', 'dev-mode', 'status', 'process', 'log']) assert.ok(types.has(type), `a ${type} event`);
  if (page) assert.ok(types.has('service') && types.has('debugger'), 'service and debugger events');
});

test('nh up SERVICE --detach -o json writes the run as NDJSON, every line valid', async () => {
  const result = await runNh(namespace(), ['up', 'booking-web', '--detach', '-o', 'json'], { cwd: project!.dir });
  assert.equal(result.code, 0, result.stderr);
  const lines = result.stdout.trim().split('\n');
  const events = lines.map((line) => JSON.parse(line) as JsonEvent);
  assert.deepEqual(invalidEvents(events).slice(0, 5), []);
  assert.deepEqual(events.map((e) => e['seq']), events.map((_, i) => i + 1));
  assert.equal(events[0]!.type, 'session-start');
  assert.equal(events[0]!['ui'], undefined, 'no page for a detached run');
  assert.ok(events.some((e) => e.type === 'dev-mode' && e['service'] === 'booking-web' && e['status'] === 'done'));
  assert.deepEqual(events.at(-1), { ...events.at(-1), type: 'session-end', reason: 'stopped' });
});
