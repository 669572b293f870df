/**
 * File sync (issue 5) on the local cluster, each figure beside a baseline measured in the same run:
 * - one small file saved → written in the container, p50/p95 over 60 saves, against `kubectl cp` of the
 *   same file (20 runs). Goals: p50 ≤ 100 ms, p95 ≤ 250 ms, ≤ 0.3× kubectl cp.
 * - initial sync of 10,000 files / 100 MB into an empty workDir, like for like: a fresh `nh sync` process
 *   against a fresh `tar c | kubectl exec -i … tar x` of the same tree into the same dev container, each
 *   from an emptied workDir: 5 pairs run back to back, the ratio is the median of the pairs' ratios (the
 *   machine is shared, so a pair sees the same load). Goal ≤ 1.15×.
 * - unchanged re-sync of that tree, a fresh `nh sync` process too: goal 0 file bytes, ≤ 1 s.
 * - peak RSS and watcher-ready time on a 100,000-file tree (a separate process). Goals ≤ 250 MiB, ≤ 5 s.
 * The dev container runs localhost/nh-dev-node:20 (Debian: GNU tar, coreutils).
 * `node dist/bench/sync.bench.js initial` runs the initial sync part only; with NH_BENCH_BEFORE=…/bin/nh.js
 * another build's `nh sync` runs in each pair too (after this one's), for a before/after under the same load.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { createExecEndpoint } from '../src/kube/node-client.js';
import { ContainerAgent } from '../src/sync/agent.js';
import { SyncSession, type SyncEvent, type SyncSessionOptions } from '../src/sync/session.js';
import { beforeBin, nhBin, nhCommand } from './cluster.js';
import { median, ms, summary } from './support.js';

const kubeconfig = process.env['NH_KUBECONFIG'] ?? '/var/lib/nh-cluster/kubeconfig';
const kubectlBin = '/var/lib/nh-cluster/bin/kubectl';
const namespace = `nh-bench-sync-${process.pid}`;
const APP = 'sync-bench';
const WORKDIR = '/home/nocalhost-dev';
const TREE_APP = 'sync-tree';
const SAVES = 61;
const CP_RUNS = 21;
const TREE_RUNS = 5;
const settings = { mode: 'pattern', filePatterns: ['.'], ignorePatterns: [] } as const;
const now = () => performance.timeOrigin + performance.now();

function kubectl(args: readonly string[], input?: string): string {
  const r = spawnSync(kubectlBin, ['--kubeconfig', kubeconfig, ...args], { encoding: 'utf8', input, timeout: 240_000 });
  if (r.status !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

function timed(command: string): number {
  const started = now();
  const r = spawnSync('sh', ['-c', command], { encoding: 'utf8', timeout: 600_000 });
  if (r.status !== 0) throw new Error(`${command}: ${r.stderr}`);
  return now() - started;
}

const sleep = (millis: number) => new Promise((resolve) => setTimeout(resolve, millis));

/** An idle one-container Deployment of the dev image (`dev`), with `volumes` mounted as given. */
function deployIdle(name: string, volumes: readonly { name: string; mountPath: string }[]): void {
  kubectl(['-n', namespace, 'apply', '-f', '-'], JSON.stringify({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          terminationGracePeriodSeconds: 1,
          containers: [{
            name: 'dev',
            image: 'localhost/nh-dev-node:20',
            imagePullPolicy: 'Never',
            command: ['sh', '-c', 'trap "exit 0" TERM; while :; do sleep 1; done'],
            volumeMounts: volumes,
          }],
          volumes: volumes.map((v) => ({ name: v.name, emptyDir: {} })),
        },
      },
    },
  }));
  kubectl(['-n', namespace, 'rollout', 'status', `deploy/${name}`, '--timeout=180s']);
}

function podOf(app: string, selector = `app=${app}`): string {
  return kubectl(['-n', namespace, 'get', 'pods', '-l', selector, '-o', 'jsonpath={.items[0].metadata.name}']).trim();
}

function setUp(): string {
  kubectl(['create', 'namespace', namespace]);
  deployIdle(APP, [{ name: 'workdir', mountPath: WORKDIR }]);
  return podOf(APP);
}

/**
 * A project whose one service syncs `tree` into the workDir of TREE_APP, put in dev mode by `nh up --detach`
 * (nh sync only syncs into dev containers); returns its config file and the dev pod.
 */
function treeProject(scratch: string): { config: string; devPod: string } {
  deployIdle(TREE_APP, []);
  mkdirSync(join(scratch, '.nocalhost'));
  const config = join(scratch, '.nocalhost', 'config.yaml');
  writeFileSync(config, JSON.stringify({
    configProperties: { version: 'v2' },
    application: {
      name: 'sync-bench',
      services: [{ name: TREE_APP, containers: [{ dev: { image: 'localhost/nh-dev-node:20', imagePullPolicy: 'Never', workDir: WORKDIR, sync: { localPath: './tree' } } }] }],
    },
  }));
  nh(['up', '--detach', '-f', config]);
  return { config, devPod: podOf(TREE_APP, `app=${TREE_APP},nh.dev/mode=dev`) };
}

/** A fresh `nh` process (this checkout's, or `bin`) against the bench namespace; its stderr (where nh sync reports). */
function nh(args: readonly string[], bin = nhBin): string {
  const started = nhCommand(bin, [], [...args, '--kubeconfig', kubeconfig, '-n', namespace], { ...process.env, NO_COLOR: '1', NH_IDENTITY: 'bench@nh' });
  const r = spawnSync(started.command, started.args, { encoding: 'utf8', env: started.env, timeout: 600_000 });
  if (r.status !== 0) throw new Error(`nh ${args.join(' ')} exited ${r.status}: ${r.stdout}${r.stderr}`);
  return r.stderr;
}

/** Times a fresh `nh sync` process; returns the time and what it reported ("N written" or "up to date"). */
function timedNhSync(config: string, bin = nhBin): { elapsed: number; report: string } {
  const started = now();
  const report = nh(['sync', TREE_APP, '-f', config], bin);
  return { elapsed: now() - started, report };
}

async function main(): Promise<void> {
  const pod = setUp();
  const endpoint = await createExecEndpoint({ kubeconfig, context: undefined, namespace, env: process.env });
  const connect = (workDir: string) => (signal?: AbortSignal) => ContainerAgent.start(endpoint, { namespace, pod, container: 'dev' }, workDir, signal);
  const scratch = mkdtempSync(join(tmpdir(), 'nh-bench-sync-'));
  try {
    if (!part || part === 'saves') await benchSaves(scratch, pod, connect);
    if (!part || part === 'initial') benchInitial(scratch);
    if (!part || part === 'watch') await benchWatch(scratch);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
    kubectl(['delete', 'namespace', namespace, '--wait=false']);
  }
}

/** 1. One small file, saved again and again while a live session runs. */
async function benchSaves(scratch: string, pod: string, connect: (workDir: string) => SyncSessionOptions['connect']): Promise<void> {
  const small = join(scratch, 'small');
  mkdirSync(small);
  writeFileSync(join(small, 'app.js'), 'x');
  const events: SyncEvent[] = [];
  let onBatch: (() => void) | undefined;
  const session = new SyncSession({
    service: 'bench', localRoot: small, settings, connect: connect(`${WORKDIR}/small`), now,
    onEvent: (e) => { events.push(e); if (e.type === 'batch' && !e.initial) onBatch?.(); },
  });
  const abort = new AbortController();
  const running = session.run(abort.signal);
  while (!events.some((e) => e.type === 'batch' && e.initial)) await sleep(20);
  const saves: number[] = [];
  for (let i = 0; i < SAVES; i++) {
    const written = new Promise<void>((resolve) => (onBatch = resolve));
    const savedAt = now();
    writeFileSync(join(small, 'app.js'), `console.log(${i}, ${JSON.stringify(randomBytes(600).toString('base64'))});\n`);
    await written;
    const batch = events.filter((e) => e.type === 'batch').at(-1) as Extract<SyncEvent, { type: 'batch' }>;
    saves.push(batch.writtenAt - savedAt);
    await sleep(50 + Math.random() * 50);
  }
  abort.abort();
  await running;
  const cp: number[] = [];
  for (let i = 0; i < CP_RUNS; i++) {
    cp.push(timed(`${kubectlBin} --kubeconfig ${kubeconfig} -n ${namespace} cp -c dev ${join(small, 'app.js')} ${pod}:${WORKDIR}/cp-app.js`));
  }
  const save = summary(saves);
  const copy = summary(cp);
  console.log(`one small file saved → written in the container (${save.n} saves): p50 ${ms(save.p50)}, p95 ${ms(save.p95)}, min ${ms(save.min)}`);
  console.log(`kubectl cp of the same file (${copy.n} runs): p50 ${ms(copy.p50)}, p95 ${ms(copy.p95)}`);
  console.log(`ratio p50: ${(save.p50 / copy.p50).toFixed(3)}× kubectl cp (goal ≤ 0.3×; goals p50 ≤ 100 ms, p95 ≤ 250 ms)`);
}

/**
 * 2. 10,000 files / 100 MB: initial sync against the raw tar pipe, both fresh processes into the same
 * emptied workDir of one dev container, then an unchanged re-sync. One untimed round first, so that every
 * timed run finds the files in the page cache and nh its code cache.
 */
function benchInitial(scratch: string): void {
  const tree = join(scratch, 'tree');
  for (let d = 0; d < 100; d++) {
    mkdirSync(join(tree, `dir-${d}`), { recursive: true });
    for (let f = 0; f < 100; f++) writeFileSync(join(tree, `dir-${d}`, `file-${f}.bin`), randomBytes(10 * 1024));
  }
  const { config, devPod } = treeProject(scratch);
  const inDevPod = `${kubectlBin} --kubeconfig ${kubeconfig} -n ${namespace} exec -i ${devPod} -c dev --`;
  const emptyWorkDir = () => timed(`${inDevPod} find ${WORKDIR} -mindepth 1 -delete`);
  const initial: number[] = [];
  const raw: number[] = [];
  const resync: number[] = [];
  const resyncReports: string[] = [];
  const before: number[] = [];
  const syncInto = (bin?: string) => {
    emptyWorkDir();
    const first = timedNhSync(config, bin);
    const written = Number(/initial sync: (\d+) written/.exec(first.report)?.[1]);
    if (written !== 10_100) throw new Error(`expected 10,100 entries written, nh sync said: ${first.report}`);
    return first.elapsed;
  };
  for (let run = -1; run < TREE_RUNS; run++) {
    emptyWorkDir();
    const pipe = timed(`tar c -C ${tree} . | ${inDevPod} tar x -C ${WORKDIR}`);
    const ours = syncInto();
    const again = timedNhSync(config);
    const theirs = beforeBin ? syncInto(beforeBin) : undefined;
    if (run < 0) continue;
    raw.push(pipe);
    initial.push(ours);
    resync.push(again.elapsed);
    resyncReports.push(/initial sync: ([^\n]*) in /.exec(again.report)?.[1] ?? again.report.trim());
    if (theirs !== undefined) before.push(theirs);
  }
  const ratios = initial.map((t, i) => t / raw[i]!);
  console.log(`initial sync, 10,000 files / 100 MB, a fresh nh sync process (${TREE_RUNS} runs): median ${ms(median(initial))} [${initial.map(ms).join(', ')}]`);
  console.log(`raw tar c | kubectl exec -i tar x, fresh processes (${TREE_RUNS} runs): median ${ms(median(raw))} [${raw.map(ms).join(', ')}]`);
  console.log(`ratio: median of pairs ${median(ratios).toFixed(3)}× the raw pipe [${ratios.map((r) => r.toFixed(2)).join(', ')}] (goal ≤ 1.15×)`);
  if (before.length > 0) {
    const beforeRatios = before.map((t, i) => t / raw[i]!);
    console.log(`NH_BENCH_BEFORE's nh sync, same runs: median ${ms(median(before))} [${before.map(ms).join(', ')}]; median of its ratios ${median(beforeRatios).toFixed(3)}× [${beforeRatios.map((r) => r.toFixed(2)).join(', ')}]`);
  }
  console.log(`unchanged re-sync, a fresh nh sync process: median ${ms(median(resync))} [${resync.map(ms).join(', ')}], nh reported: ${[...new Set(resyncReports)].join('; ')} (goal 0 bytes, ≤ 1 s)`);
}

/** 3. Watching a 100,000-file tree, in a process of its own. */
async function benchWatch(scratch: string): Promise<void> {
  const big = join(scratch, 'big');
  for (let d = 0; d < 1000; d++) {
    mkdirSync(join(big, `d${d}`), { recursive: true });
    for (let f = 0; f < 100; f++) writeFileSync(join(big, `d${d}`, `f${f}.txt`), `file ${d}/${f}\n`);
  }
  const worker = fileURLToPath(new URL('./sync-watch.worker.js', import.meta.url));
  const output = await new Promise<string>((resolve, reject) => {
    const child = spawn(process.execPath, [worker, big], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`watch worker exited ${code}`))));
  });
  const watch = JSON.parse(output) as { readyMs: number; scanMs: number; entries: number; peakRssMiB: number };
  console.log(`100,000-file tree: watcher ready in ${ms(watch.readyMs)} (goal ≤ 5 s), full local walk ${ms(watch.scanMs)} (${watch.entries} entries), peak RSS ${watch.peakRssMiB.toFixed(0)} MiB (goal ≤ 250 MiB)`);
}

const part = process.argv[2];
await main();
