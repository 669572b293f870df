/**
 * A long `nh up` (a copy of examples/booking) under steady work, issue 10's soak: an edit every 2 s spread over
 * the three services, booking-web printing 1,000 log lines a second, and a client fetching through booking-web's
 * forward all along. Once a minute nh's RSS and open files (from /proc), its active libuv handles (a Node
 * diagnostic report, on SIGUSR2) and its live heap (a heap snapshot, on SIGPWR: it starts with a full GC, so
 * the GC's sawtooth does not show) are sampled; nothing in nh is instrumented for it.
 * Reports: each sample; growth from minutes 5–10 to the last 5 minutes, medians (goal: ≤ 10 %); every edit served;
 * reload latency (write → new body seen through nh's forward, polled every 10 ms) p50/p95 of the first and the
 * last 5 minutes per language (goal: p95 at the end within 20 % of the start). On a shared machine the load of
 * the first and the last minutes differ, so the end is also compared like for like: a fresh `nh up` of a second
 * copy of the app (same workload) starts beside the aged one, and edits alternate between the two for 5 minutes;
 * the aged session's p95 over the fresh one's is what 30 minutes did to nh.
 * `NH_SOAK_MINUTES` (default 30) shortens it for a check.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createNamespace, deleteNamespace } from '../test/e2e/support/cluster.js';
import { BookingSession, body, type BookingService } from '../test/e2e/faults/booking-session.js';
import { median, percentile } from './support.js';

const MINUTES = Number(process.env['NH_SOAK_MINUTES'] ?? 30);
const EDIT_EVERY_MS = 2_000;
const WINDOW_MS = Math.min(5, MINUTES / 3) * 60_000;
const ROTATION: readonly BookingService[] = ['api', 'web', 'inventory'];

interface Sample {
  readonly minute: number;
  readonly rssMiB: number;
  readonly fds: number;
  readonly heapMiB: number;
  readonly activeHandles: number;
}

interface Reload {
  readonly service: BookingService;
  readonly at: number;
  readonly ms: number | undefined;
}

/** 1,000 lines a second from booking-web's process, in bursts of 100 every 100 ms. */
function addLogFlood(project: string): void {
  const file = join(project, 'web', 'server.js');
  writeFileSync(file, `${readFileSync(file, 'utf8')}
let floodLine = 0;
setInterval(() => { for (let i = 0; i < 100; i++) console.log(\`flood line \${++floodLine} of the soak benchmark\`); }, 100);
`);
}

const reports = mkdtempSync(join(tmpdir(), 'nh-soak-reports-'));

/** Waits for a new file of `suffix` in the reports directory and reads it; written by nh on a signal. */
async function nextFile<T>(before: ReadonlySet<string>, suffix: string, read: (text: string) => T): Promise<T> {
  for (let i = 0; i < 300; i++) {
    const file = readdirSync(reports).find((f) => !before.has(f) && f.endsWith(suffix));
    if (file) {
      try {
        const value = read(readFileSync(join(reports, file), 'utf8'));
        rmSync(join(reports, file));
        return value;
      } catch {
        // still being written
      }
    }
    await sleep(100);
  }
  throw new Error(`nh wrote no ${suffix} within 30 s of the signal`);
}

/** Bytes of the objects in a heap snapshot: what is live after the full GC that a snapshot starts with. */
function liveBytes(text: string): number {
  const snapshot = JSON.parse(text) as { snapshot: { meta: { node_fields: string[] } }; nodes: number[] };
  const fields = snapshot.snapshot.meta.node_fields;
  let total = 0;
  for (let i = fields.indexOf('self_size'); i < snapshot.nodes.length; i += fields.length) total += snapshot.nodes[i]!;
  return total;
}

async function sampleOf(session: BookingSession, minute: number): Promise<Sample> {
  const { rssKiB, fds } = session.resources();
  let before = new Set(readdirSync(reports));
  session.nh.kill('SIGUSR2');
  const activeHandles = await nextFile(before, '.json', (text) => (JSON.parse(text) as { libuv: { is_active: boolean }[] }).libuv.filter((h) => h.is_active).length);
  before = new Set(readdirSync(reports));
  session.nh.kill('SIGPWR');
  const heapMiB = (await nextFile(before, '.heapsnapshot', liveBytes)) / 2 ** 20;
  return { minute, rssMiB: rssKiB / 1024, fds, heapMiB, activeHandles };
}

async function timedReload(session: BookingSession, service: BookingService): Promise<Reload> {
  const at = Date.now();
  const mark = session.mark();
  const marker = session.edit(service);
  const deadline = at + 60_000;
  while (Date.now() < deadline) {
    if (await session.serves(marker, service)) return { service, at, ms: Date.now() - at };
    await sleep(10);
  }
  // What nh said meanwhile, without the flood, for whoever tracks down why.
  const said = session.outputSince(mark).split('\n').filter((l) => !l.includes('flood line')).slice(-40).join('\n');
  console.log(`edit "${marker}" of ${service} at ${new Date(at).toISOString()} not served within 60 s; nh said since:\n${said}`);
  return { service, at, ms: undefined };
}

/** Fetches booking-web's page through nh's forward, one request at a time, until stopped. */
async function trafficThrough(port: number, stop: AbortSignal): Promise<{ ok: number; failed: number }> {
  const counts = { ok: 0, failed: 0 };
  while (!stop.aborted) {
    if ((await body(port)) === undefined) counts.failed++;
    else counts.ok++;
    await sleep(50);
  }
  return counts;
}

function growth(first: number, last: number): string {
  const pct = ((last - first) / first) * 100;
  return `${pct >= 0 ? '+' : ''}${pct.toFixed(1)} %`;
}

/**
 * The aged session against a fresh one on a second copy of the app, edits alternating between the two (same
 * service each pair, a fresh session's edit right after the aged one's), for one window: like for like under
 * whatever load the machine has then.
 */
async function agedAgainstFresh(aged: BookingSession): Promise<void> {
  const freshNamespace = await createNamespace('bench-soak-fresh');
  const fresh = await BookingSession.start(freshNamespace, { prepare: addLogFlood, keepOutput: 200_000 });
  const stop = new AbortController();
  try {
    const traffic = trafficThrough(fresh.ports.web, stop.signal);
    const pairs: { aged: Reload; fresh: Reload }[] = [];
    const started = Date.now();
    for (let i = 0; Date.now() - started < WINDOW_MS; i++) {
      const service = ROTATION[i % ROTATION.length]!;
      const next = Date.now() + EDIT_EVERY_MS;
      pairs.push({ aged: await timedReload(aged, service), fresh: await timedReload(fresh, service) });
      await sleep(Math.max(0, next - Date.now()));
    }
    stop.abort();
    await traffic;
    for (const [language, services] of [['Node (api, web)', ['api', 'web']], ['Go (inventory)', ['inventory']]] as const) {
      const of = (side: 'aged' | 'fresh') => pairs.map((p) => p[side]).filter((r) => (services as readonly string[]).includes(r.service) && r.ms !== undefined).map((r) => r.ms!);
      const [agedMs, freshMs] = [of('aged'), of('fresh')];
      console.log(`reload ${language}, alternating for ${WINDOW_MS / 60_000} min: aged ${MINUTES} min p50 ${percentile(agedMs, 50).toFixed(0)} ms p95 ${percentile(agedMs, 95).toFixed(0)} ms (n=${agedMs.length}); fresh p50 ${percentile(freshMs, 50).toFixed(0)} ms p95 ${percentile(freshMs, 95).toFixed(0)} ms (n=${freshMs.length}); p95 aged/fresh ${(percentile(agedMs, 95) / percentile(freshMs, 95)).toFixed(2)}× (goal ≤ 1.20×)`);
    }
    const lost = pairs.flatMap((p) => [p.aged, p.fresh]).filter((r) => r.ms === undefined).length;
    console.log(`alternating edits: ${pairs.length * 2}, not served within 60 s: ${lost}`);
  } finally {
    stop.abort();
    await fresh.stop();
    rmSync(fresh.project, { recursive: true, force: true });
    await deleteNamespace(freshNamespace);
  }
}

const namespace = await createNamespace('bench-soak');
const session = await BookingSession.start(namespace, {
  prepare: addLogFlood,
  keepOutput: 200_000,
  env: { NODE_OPTIONS: `--report-on-signal --report-signal=SIGUSR2 --report-directory=${reports} --heapsnapshot-signal=SIGPWR --diagnostic-dir=${reports}` },
});
const stopTraffic = new AbortController();
try {
  console.log(`soak: nh up (booking) for ${MINUTES} min: an edit every ${EDIT_EVERY_MS / 1000} s over ${ROTATION.join(', ')}, 1,000 log lines/s from booking-web, traffic through booking-web's forward`);
  const traffic = trafficThrough(session.ports.web, stopTraffic.signal);
  const started = Date.now();
  const samples: Sample[] = [await sampleOf(session, 0)];
  const reloads: Reload[] = [];
  let edits = 0;
  while (Date.now() - started < MINUTES * 60_000) {
    const next = started + (edits + 1) * EDIT_EVERY_MS;
    reloads.push(await timedReload(session, ROTATION[edits % ROTATION.length]!));
    edits++;
    const minute = Math.floor((Date.now() - started) / 60_000);
    if (minute > samples.at(-1)!.minute) samples.push(await sampleOf(session, minute));
    await sleep(Math.max(0, next - Date.now()));
  }
  stopTraffic.abort();
  const served = await traffic;

  console.log('minute  RSS MiB  heap MiB  fds  active handles');
  for (const s of samples) console.log(`${String(s.minute).padStart(6)}  ${s.rssMiB.toFixed(1).padStart(7)}  ${s.heapMiB.toFixed(1).padStart(8)}  ${String(s.fds).padStart(3)}  ${String(s.activeHandles).padStart(14)}`);
  const settledFrom = Math.min(5, MINUTES / 3);
  const settled = samples.filter((s) => s.minute >= settledFrom && s.minute < settledFrom * 2);
  const final = samples.filter((s) => s.minute > samples.at(-1)!.minute - settledFrom);
  const change = (of: (s: Sample) => number) => growth(median(settled.map(of)), median(final.map(of)));
  console.log(`growth, medians of minutes ${settledFrom}–${settledFrom * 2} and of the last ${settledFrom} (goal ≤ 10 %): RSS ${change((s) => s.rssMiB)}, live heap ${change((s) => s.heapMiB)}, fds ${change((s) => s.fds)}, active handles ${change((s) => s.activeHandles)}`);

  const lost = reloads.filter((r) => r.ms === undefined);
  console.log(`edits: ${reloads.length}, served: ${reloads.length - lost.length}, not served within 60 s: ${lost.length}`);
  console.log(`traffic through the forward: ${served.ok} answered, ${served.failed} failed (a restart of booking-web holds or cuts a few)`);
  const end = Date.now();
  for (const [language, services] of [['Node (api, web)', ['api', 'web']], ['Go (inventory)', ['inventory']]] as const) {
    const of = (from: number, to: number) => reloads.filter((r) => (services as readonly string[]).includes(r.service) && r.ms !== undefined && r.at >= from && r.at < to).map((r) => r.ms!);
    const first = of(started, started + WINDOW_MS);
    const final = of(end - WINDOW_MS, end);
    const p95First = percentile(first, 95);
    const p95Final = percentile(final, 95);
    console.log(`reload ${language}: first ${WINDOW_MS / 60_000} min p50 ${percentile(first, 50).toFixed(0)} ms p95 ${p95First.toFixed(0)} ms (n=${first.length}); last ${WINDOW_MS / 60_000} min p50 ${percentile(final, 50).toFixed(0)} ms p95 ${p95Final.toFixed(0)} ms (n=${final.length}); p95 end/start ${(p95Final / p95First).toFixed(2)}× (under each window's own load)`);
  }
  await agedAgainstFresh(session);
} finally {
  stopTraffic.abort();
  await session.stop();
  rmSync(reports, { recursive: true, force: true });
  rmSync(session.project, { recursive: true, force: true });
  await deleteNamespace(namespace);
}
