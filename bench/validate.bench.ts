/**
 * `nh validate` start-to-exit time on a 20-service config, as a user (or pre-commit) runs it: a fresh
 * process each time. Baseline in the same run: a bare `node` start, which no Node CLI can beat.
 * Then each hostile file of test/support/hostile-yaml.ts, largest scale within 1 MiB: start-to-exit time and peak
 * memory (goal < 1 s and < 200 MB each, and a located error, never a crash).
 * With NH_BENCH_BEFORE=…/bin/nh.js another build's `nh validate` of the 20 services runs in the same loop.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeBin } from './cluster.js';
import { ms, summary } from './support.js';
import { HOSTILE } from '../test/support/hostile-yaml.js';

const RUNS = 31;
const nhBin = fileURLToPath(new URL('../../bin/nh.js', import.meta.url));

function twentyServices(): string {
  const services = Array.from({ length: 20 }, (_, i) => {
    const port = 18000 + i;
    return [
      `    - name: svc-${i}`,
      '      serviceType: deployment',
      i > 0 ? `      dependsOn: [svc-${i - 1}]` : '',
      '      containers:',
      `        - name: app`,
      '          dev:',
      '            image: localhost/nh-dev-node:20',
      '            workDir: /app',
      '            command: {run: [node, server.js], debug: [node, --inspect=0.0.0.0:9229, server.js]}',
      `            debug: {remoteDebugPort: ${20000 + i}, language: node}`,
      '            hotReload: true',
      `            sync: {type: send, localPath: ./svc-${i}, filePattern: ["src/**", package.json], ignoreFilePattern: [node_modules/**, "*.log"]}`,
      '            resources: {limits: {cpu: "1", memory: 512Mi}, requests: {cpu: 100m, memory: 128Mi}}',
      `            env: [{name: PORT, value: "8080"}, {name: LOG_LEVEL, value: "\${LOG_LEVEL:-info}"}]`,
      `            portForward: ["${port}:8080"]`,
    ]
      .filter(Boolean)
      .join('\n');
  });
  return `configProperties: {version: v2}\napplication:\n  services:\n${services.join('\n')}\n`;
}

function time(args: string[]): number {
  const start = process.hrtime.bigint();
  const result = spawnSync(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const elapsed = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.status !== 0) throw new Error(`${args.join(' ')} exited ${result.status}: ${result.stdout.toString()}${result.stderr.toString()}`);
  return elapsed;
}

/** Peak RSS of the child, reported by the child itself as it exits. */
/** The CPU time each process used, from startup.bench's preload (CPU moves far less with the load than wall time). */
const REPORT_CPU = fileURLToPath(new URL('./cpu-at-exit.preload.js', import.meta.url));
const REPORT_RSS = `data:text/javascript,process.on('exit', () => process.stderr.write('maxrss=' + process.resourceUsage().maxRSS + '\\n'))`;

const dir = mkdtempSync(join(tmpdir(), 'nh-bench-validate-'));
try {
  mkdirSync(join(dir, '.nocalhost'));
  const config = join(dir, '.nocalhost', 'config.yaml');
  writeFileSync(config, twentyServices());
  time([nhBin, 'validate', '-f', config]); // warm the file cache, and write nh's code cache, once
  if (beforeBin) time([beforeBin, 'validate', '-f', config]);
  const nh: number[] = [];
  const bare: number[] = [];
  const before: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    bare.push(time(['-e', '']));
    nh.push(time([nhBin, 'validate', '-f', config]));
    if (beforeBin) before.push(time([beforeBin, 'validate', '-f', config]));
  }
  const n = summary(nh);
  const b = summary(bare);
  console.log(`nh validate, 20 services, ${RUNS} runs: p50 ${ms(n.p50)}, p95 ${ms(n.p95)}, min ${ms(n.min)}  (goal ≤ 300 ms)`);
  console.log(`bare node start (baseline):      p50 ${ms(b.p50)}, p95 ${ms(b.p95)}`);
  console.log(`nh validate / bare node:         ${(n.p50 / b.p50).toFixed(2)}× at p50; nh's own work ≈ ${ms(n.p50 - b.p50)}`);
  if (before.length > 0) {
    const c = summary(before);
    console.log(`NH_BENCH_BEFORE's nh validate:   p50 ${ms(c.p50)}, p95 ${ms(c.p95)}; ${(c.p50 / b.p50).toFixed(2)}× bare node`);
  }
  hostileFiles(dir);
} finally {
  rmSync(dir, { recursive: true, force: true });
}

/**
 * Each hostile file, HOSTILE_RUNS times, interleaved with `nh validate` of a one-line config (the baseline: nh's
 * own start, which every answer includes): medians, the difference (what the hostile file costs) and peak memory.
 */
function hostileFiles(dir: string): void {
  const HOSTILE_RUNS = 5;
  writeFileSync(join(dir, 'part.yaml'), 'name: x\n');
  const small = join(dir, 'small.yaml');
  writeFileSync(small, 'name: x\n');
  const run = (file: string) => {
    const start = process.hrtime.bigint();
    const result = spawnSync(process.execPath, ['--import', REPORT_RSS, '--import', REPORT_CPU, nhBin, 'validate', file], { stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 });
    const elapsed = Number(process.hrtime.bigint() - start) / 1e6;
    const stderr = result.stderr.toString();
    return { elapsed, result, rss: Number(/maxrss=(\d+)/.exec(stderr)?.[1] ?? NaN) / 1024, cpu: Number(/\ncpu-ms ([\d.]+)\n/.exec(stderr)?.[1] ?? NaN) };
  };
  console.log(`hostile files (nh validate, start to exit, median of ${HOSTILE_RUNS}; baseline: nh validate of a one-line config, interleaved; goal < 1 s, < 200 MB;`);
  console.log('CPU: the hostile run\'s own CPU time, user + system, which the machine\'s load hardly moves):');
  console.log('  hostile   baseline  difference  hostile CPU  peak RSS   size  file: first line of the answer');
  for (const { name, make } of HOSTILE) {
    const text = [3, 2, 1].map(make).find((t) => Buffer.byteLength(t) <= 1024 * 1024)!;
    const file = join(dir, 'hostile.yaml');
    writeFileSync(file, text);
    const hostile: number[] = [];
    const hostileCpu: number[] = [];
    const baseline: number[] = [];
    let last = run(file);
    let rss = 0;
    for (let i = 0; i < HOSTILE_RUNS; i++) {
      baseline.push(run(small).elapsed);
      last = run(file);
      hostile.push(last.elapsed);
      hostileCpu.push(last.cpu);
      rss = Math.max(rss, last.rss);
    }
    const [h, b] = [summary(hostile).p50, summary(baseline).p50];
    const first = last.result.stdout.toString().split('\n')[0]!.replace(/^.*?: /, '').slice(0, 70);
    const crashed = (last.result.status !== 0 && last.result.status !== 1) || /internal error/.test(last.result.stderr.toString());
    console.log(`  ${ms(h).padStart(9)} ${ms(b).padStart(9)} ${ms(h - b).padStart(10)} ${ms(summary(hostileCpu).p50).padStart(12)} ${rss.toFixed(0).padStart(5)} MB ${(text.length / 1024).toFixed(0).padStart(4)} kB  ${name}: ${crashed ? `EXIT ${last.result.status}` : first}`);
  }
}
