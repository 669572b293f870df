/// <reference lib="dom" />
/**
 * The session's page (issue 14), in Debian's Chromium driven by playwright-core:
 * 1. first paint of the page (with 3 services and 5,000 log lines to replay) vs a bare HTML page from a bare
 *    node:http server, same browser, same loop; p50 of 5;
 * 2. events per second from nh's page server into the page (50,000 log events, folded and counted by the
 *    page) vs the same events from a bare SSE server to a page that only parses and counts them; p50 of 3;
 * 3. input-to-paint of the log search (21 keys, one after another's paint) while 50,000 log lines arrive
 *    (offered at 25,000/s) vs on the same page idle, p95 per round, p50 of 3 rounds;
 * 4. with the local cluster: nh's CPU time and memory during 1,000 file edits of examples/booking with the
 *    page open vs `--no-ui` (both `-o json`), p50 of 3 rounds each.
 * Run: `npm run build && flock -s /tmp/nh-cluster.lock node dist/bench/ui.bench.js` (NH_BENCH_UI_CLUSTER=0 skips 3).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { EventStream, type SessionEventBody } from '../src/events/session-event.js';
import { startUiServer } from '../src/ui/server.js';
import { inputToPaint } from './input-to-paint.js';
import { median, percentile } from './support.js';

const repoRoot = new URL('../../', import.meta.url).pathname;
const chromiumPath = [process.env['CHROMIUM_PATH'], '/usr/lib/chromium/chromium', '/usr/bin/chromium'].find((p) => p && existsSync(p));
const BURST = 50_000;
/** Keys per round of the input-to-paint measure: an odd count, for a p95 of its own samples. */
const KEYS = 21;

const start: SessionEventBody = {
  type: 'session-start', app: 'booking', namespace: 'bench', debug: false,
  services: ['booking-web', 'booking-api', 'booking-inventory'].map((name, i) => ({ name, workload: { kind: 'Deployment', name }, image: 'img', workDir: '/app', hotReload: true, dependsOn: [], forwards: [{ local: 18080 + i, remote: 8080 }] })),
};
const logLine = (i: number): SessionEventBody => ({ type: 'log', service: 'booking-api', stream: 'stdout', line: `GET /bookings 200 ${i} — a line of a busy service's log` });

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

/** A bare page and a bare SSE stream: the floor of what the browser and loopback cost. */
async function bareServer(batches: () => string[]): Promise<{ port: number; close: () => Promise<void> }> {
  const server = createServer((request, response) => {
    if (request.url === '/events') {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      for (const batch of batches()) response.write(`data: ${batch}\n\n`);
      return;
    }
    response.writeHead(200, { 'content-type': 'text/html' });
    response.end(`<!doctype html><p id="n">0</p><script>let n = 0; const s = new EventSource('/events'); s.onmessage = (m) => { n += JSON.parse(m.data).length; document.getElementById('n').textContent = String(n); };</script>`);
  });
  const port = await listen(server);
  return { port, close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }) };
}

async function firstPaint(browser: Browser, url: string): Promise<number> {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(url);
  const fcp = await page.evaluate(() => new Promise<number>((resolve) => {
    new PerformanceObserver((list) => {
      const entry = list.getEntries().find((e) => e.name === 'first-contentful-paint');
      if (entry) resolve(entry.startTime);
    }).observe({ type: 'paint', buffered: true });
  }));
  await context.close();
  return fcp;
}

async function pageBenchmarks(browser: Browser): Promise<void> {
  // 1. First paint.
  const ui = await startUiServer({ port: 0, title: 'bench' });
  const stream = new EventStream(() => new Date());
  stream.subscribe((e) => ui.publish(e));
  stream.emit(start);
  for (let i = 0; i < 5_000; i++) stream.emit(logLine(i));
  const bare = await bareServer(() => []);
  const nhPaint: number[] = [];
  const barePaint: number[] = [];
  for (let i = 0; i < 5; i++) {
    nhPaint.push(await firstPaint(browser, ui.url));
    barePaint.push(await firstPaint(browser, `http://127.0.0.1:${bare.port}/`));
  }
  await bare.close();
  await ui.close();
  console.log(`first contentful paint, p50 of 5: nh's page ${median(nhPaint).toFixed(0)} ms (min ${Math.min(...nhPaint).toFixed(0)}, max ${Math.max(...nhPaint).toFixed(0)}); bare page ${median(barePaint).toFixed(0)} ms; ratio ${(median(nhPaint) / median(barePaint)).toFixed(2)}×`);

  // 2. Events per second into the page.
  const nhRates: number[] = [];
  const bareRates: number[] = [];
  for (let round = 0; round < 3; round++) {
    const server = await startUiServer({ port: 0, title: 'bench' });
    const events = new EventStream(() => new Date());
    events.subscribe((e) => server.publish(e));
    events.emit(start);
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(server.url);
    await page.waitForFunction(() => /live/.test(document.querySelector('[data-field="connection"]')?.textContent ?? ''));
    const began = Date.now();
    for (let i = 0; i < BURST; i += 1_000) {
      for (let j = i; j < i + 1_000; j++) events.emit(logLine(j));
      await new Promise((resolve) => setImmediate(resolve));
    }
    await page.waitForFunction((n) => Number((document.querySelector('[data-field="connection"]')?.textContent ?? '').replace(/\D/g, '')) >= n, BURST + 1, { timeout: 120_000, polling: 20 });
    nhRates.push(BURST / ((Date.now() - began) / 1000));
    await context.close();
    await server.close();

    const payload = Array.from({ length: BURST }, (_, i) => ({ v: 1, seq: i + 2, time: new Date().toISOString(), ...logLine(i) }));
    let beganBare = 0;
    const floor = await bareServer(() => {
      beganBare = Date.now();
      const batches: string[] = [];
      for (let i = 0; i < BURST; i += 1_000) batches.push(JSON.stringify(payload.slice(i, i + 1_000)));
      return batches;
    });
    const barePage = await browser.newPage();
    await barePage.goto(`http://127.0.0.1:${floor.port}/`);
    await barePage.waitForFunction((n) => Number(document.getElementById('n')?.textContent) >= n, BURST, { timeout: 120_000, polling: 20 });
    bareRates.push(BURST / ((Date.now() - beganBare) / 1000));
    await barePage.close();
    await floor.close();
  }
  console.log(`events per second into the page, ${BURST} log events, p50 of 3: nh ${median(nhRates).toFixed(0)}/s (min ${Math.min(...nhRates).toFixed(0)}); bare SSE + parse ${median(bareRates).toFixed(0)}/s; ratio ${(median(nhRates) / median(bareRates)).toFixed(2)}×`);

  // 3. Input-to-paint while a burst arrives, against the same page idle.
  const idle: { p50: number; p95: number }[] = [];
  const busy: { p50: number; p95: number; during: boolean }[] = [];
  for (let round = 0; round < 3; round++) {
    const server = await startUiServer({ port: 0, title: 'bench' });
    const events = new EventStream(() => new Date());
    events.subscribe((e) => server.publish(e));
    events.emit(start);
    for (let i = 0; i < 5_000; i++) events.emit(logLine(i));
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(server.url);
    await page.waitForFunction(() => /live/.test(document.querySelector('[data-field="connection"]')?.textContent ?? ''));
    const quiet = await inputToPaint(page, KEYS);
    idle.push({ p50: median(quiet), p95: percentile(quiet, 95) });
    let sent = 0;
    const burst = (async () => {
      for (; sent < BURST; sent += 1_000) {
        for (let j = sent; j < sent + 1_000; j++) events.emit(logLine(j));
        await new Promise((resolve) => setTimeout(resolve, 40));
      }
    })();
    await page.waitForFunction(() => Number((document.querySelector('[data-field="connection"]')?.textContent ?? '').replace(/\D/g, '')) > 6_000, undefined, { polling: 'raf' });
    const keys = await inputToPaint(page, KEYS);
    busy.push({ p50: median(keys), p95: percentile(keys, 95), during: sent < BURST });
    await burst;
    await context.close();
    await server.close();
  }
  const p95 = (rounds: { p95: number }[]) => median(rounds.map((r) => r.p95));
  console.log(`input-to-paint of the log search, ${KEYS} keys per round, p95 per round (p50 of 3): during a ${BURST}-line burst ${busy.map((r) => r.p95.toFixed(1)).join(' / ')} ms → ${p95(busy).toFixed(1)} ms (p50 ${median(busy.map((r) => r.p50)).toFixed(1)} ms; every key while the burst was still being sent: ${busy.every((r) => r.during) ? 'yes' : 'no'}); idle ${p95(idle).toFixed(1)} ms (p50 ${median(idle.map((r) => r.p50)).toFixed(1)} ms); ratio ${(p95(busy) / p95(idle)).toFixed(2)}×`);
}

/** CPU seconds (user + system) of a process, from /proc. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function rssMiB(pid: number): number {
  return Number(/^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
}

const kubeconfig = process.env['NH_KUBECONFIG'] ?? '/var/lib/nh-cluster/kubeconfig';
const kubectl = (args: string[]) => new Promise<void>((resolve) => spawn('/var/lib/nh-cluster/bin/kubectl', ['--kubeconfig', kubeconfig, ...args], { stdio: 'ignore' }).on('exit', () => resolve()));

async function editBenchmark(browser: Browser | undefined, withPage: boolean, namespace: string): Promise<{ cpu: number[]; rss: number[] }> {
  const project = mkdtempSync(join(tmpdir(), 'nh-bench-ui-'));
  cpSync(join(repoRoot, 'examples/booking'), project, { recursive: true });
  const config = join(project, '.nocalhost', 'config.yaml');
  const base = 30_000 + Math.floor(Math.random() * 20_000);
  writeFileSync(config, readFileSync(config, 'utf8').replace('"18080:8080"', `"${base}:8080"`).replace('"18081:8080"', `"${base + 1}:8080"`).replace('"18082:8080"', `"${base + 2}:8080"`));
  const nh: ChildProcess = spawn(process.execPath, [join(repoRoot, 'bin/nh.js'), 'up', '-o', 'json', ...(withPage ? [] : ['--no-ui']), '--kubeconfig', kubeconfig, '-n', namespace], {
    cwd: project, stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, PATH: `/var/lib/nh-cluster/tools-bin:/var/lib/nh-cluster/bin:${process.env['PATH']}`, NH_IDENTITY: 'bench@ui' },
  });
  const events: { type: string; [key: string]: unknown }[] = [];
  let pending = '';
  nh.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    pending += chunk;
    const lines = pending.split('\n');
    pending = lines.pop()!;
    for (const line of lines) events.push(JSON.parse(line) as { type: string });
  });
  const until = async (what: string, check: () => boolean, timeoutMs = 400_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
      if (Date.now() > deadline || nh.exitCode !== null) throw new Error(`gave up waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };
  const result = { cpu: [] as number[], rss: [] as number[] };
  try {
    await until('three services running', () => {
      const status = events.filter((e) => e.type === 'status').at(-1) as { services?: { process: { kind: string } }[] } | undefined;
      return status?.services?.filter((s) => s.process.kind === 'running').length === 3;
    });
    const page = withPage && browser ? await browser.newPage() : undefined;
    if (page) await page.goto((events.find((e) => e.type === 'session-start')!)['ui'] as string);
    const file = join(project, 'api', 'bench-edit.js');
    for (let round = 0; round < 3; round++) {
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      const cpuBefore = cpuSeconds(nh.pid!);
      for (let i = 0; i < 1_000; i++) {
        writeFileSync(file, `// edit ${round}-${i}\n`);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      const lastEditAt = Date.now();
      await until('the last edit synced', () => events.some((e) => e.type === 'sync' && e['service'] === 'booking-api' && Date.parse(e['time'] as string) >= lastEditAt));
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      result.cpu.push(cpuSeconds(nh.pid!) - cpuBefore);
      result.rss.push(rssMiB(nh.pid!));
    }
    await page?.close();
    return result;
  } finally {
    nh.kill('SIGINT');
    await new Promise((resolve) => (nh.exitCode !== null ? resolve(undefined) : nh.once('exit', resolve)));
    rmSync(project, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  if (!chromiumPath) {
    console.log('chromium is not installed: run scripts/ensure-chromium.sh (as root)');
    process.exit(1);
  }
  const browser = await chromium.launch({ executablePath: chromiumPath });
  console.log(`Chromium ${browser.version()}`);
  try {
    await pageBenchmarks(browser);
    if (process.env['NH_BENCH_UI_CLUSTER'] === '0') return;
    const namespace = `ui-bench-${Date.now().toString(36)}`;
    await kubectl(['create', 'namespace', namespace]);
    try {
      const without = await editBenchmark(undefined, false, namespace);
      const withPage = await editBenchmark(browser, true, namespace);
      console.log(`nh's CPU time per 1,000 edits, p50 of 3: page open ${median(withPage.cpu).toFixed(2)} s, --no-ui ${median(without.cpu).toFixed(2)} s; ratio ${(median(withPage.cpu) / median(without.cpu)).toFixed(2)}×`);
      console.log(`nh's RSS after each round, p50 of 3: page open ${median(withPage.rss).toFixed(0)} MiB, --no-ui ${median(without.rss).toFixed(0)} MiB; ratio ${(median(withPage.rss) / median(without.rss)).toFixed(2)}×`);
    } finally {
      await kubectl(['delete', 'namespace', namespace, '--wait=false']);
    }
  } finally {
    await browser.close();
  }
}

await main();
