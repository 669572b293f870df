/**
 * nh against the physical floor (issue 15), each floor measured in the same run:
 * - reload: `nh up` of a small Node service and a small Go service (`go run .`) with hotReload; save → new body
 *   through nh's forward (from the file write, the served body seen by polling every 10 ms), against the
 *   floor measured in the same dev container right after: the process's own start until it prints
 *   `listening` (Go: the incremental `go build` first), plus the one-file sync as nh reports it.
 *   For Go also the unavailable window the client sees (its last old body → its first new body). A second Node
 *   service, run through env (so without the standby: a fresh process per reload), takes turns with the first.
 * - devmode: `nh up --detach` (a fresh nh process, its start included) of 1 and 10 Deployments until the dev
 *   pods are Ready, interleaved with the same change made by hand: one `kubectl patch` per Deployment, all at
 *   once (the dev pod template nh wrote, as a merge patch), then `kubectl rollout status` of each.
 * `node dist/bench/floor.bench.js reload|devmode` runs one part; `npm run bench -- floor` runs both. With
 * NH_BENCH_BEFORE=…/bin/nh.js, devmode also times another build's `nh up --detach` in each run; with
 * NH_BENCH_TIMELINE=1 it also says where each entry's time went (bench/entry-timeline.ts); NH_BENCH_ENTRY_RUNS
 * sets the entries per side (9), NH_BENCH_ENTRY_SERVICES the service counts (1,10).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeBin, freshRequestMs, get, kubeconfig, kubectl, kubectlBin, nhBin, nhCommand, repo, timedNh, until } from './cluster.js';
import { EntryTimeline, epochNow, kubectlMarks, nhMarks, timelineLine, timelineTable, type Step } from './entry-timeline.js';
import { ms, summary } from './support.js';
import { handoffHelperPath } from '../src/devloop/supervisor-script.js';

/** 41, not 21: a p95 of 21 edits is their second slowest, so one busy moment of the machine decided the goal. */
const NODE_EDITS = 41;
const GO_EDITS = 15;
const FLOOR_RUNS = 11;
const ENTRY_RUNS = Number(process.env['NH_BENCH_ENTRY_RUNS'] || 9);
/** How many services each devmode entry takes, in turn (NH_BENCH_ENTRY_SERVICES=1 for one only). */
const ENTRY_SERVICES = (process.env['NH_BENCH_ENTRY_SERVICES'] || '1,10').split(',').map(Number);
const NODE_PORT = 18481;
const GO_PORT = 18482;
const NODE_FRESH_PORT = 18483;

function kubectlOutput(args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(kubectlBin, ['--kubeconfig', kubeconfig, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`kubectl ${args.join(' ')}: ${err}`))));
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------- reload
const NODE_SERVER = (body: string) => `const http = require('http');
const BODY = ${JSON.stringify(body)};
const server = http.createServer((req, res) => res.end(BODY));
server.listen(Number(process.env.PORT || 8080), () => console.log('listening'));
process.on('SIGTERM', () => process.exit(0));
`;

const GO_SERVER = (body: string) => `package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
)

const body = ${JSON.stringify(body)}

func main() {
	port := os.Getenv("PORT")
	if port == "" {
		port = "8080"
	}
	ln, err := net.Listen("tcp", ":"+port)
	if err != nil {
		panic(err)
	}
	fmt.Println("listening")
	_ = http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, body) }))
}
`;

/** One hot-reloading service of the reload config, its source synced from ./DIR. */
const reloadService = (name: string, image: string, workDir: string, run: string, dir: string, port: number) => `    - name: ${name}
      serviceType: deployment
      containers:
        - name: app
          dev:
            image: ${image}
            imagePullPolicy: IfNotPresent
            workDir: ${workDir}
            command: {run: [${run}]}
            hotReload: true
            sync: {type: send, localPath: ./${dir}}
            portForward: ["${port}:8080"]
`;

// floor-node-fresh runs through env: not node itself, so no standby (a fresh process per reload; env's exec
// costs ≈ 1 ms more).
const RELOAD_CONFIG = `configProperties: {version: v2}
application:
  name: floor
  services:
${[
  reloadService('floor-node', 'localhost/nh-dev-node:20', '/app', 'node, server.js', 'node', NODE_PORT),
  reloadService('floor-node-fresh', 'localhost/nh-dev-node:20', '/app', '/usr/bin/env, node, server.js', 'node-fresh', NODE_FRESH_PORT),
  reloadService('floor-go', 'localhost/nh-dev-go:1.26', '/src', 'go, run, .', 'go', GO_PORT),
].join('')}`;

function idleDeployments(names: readonly string[], image: (name: string) => string): string {
  return JSON.stringify({
    apiVersion: 'v1', kind: 'List',
    items: names.map((name) => ({
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name },
      spec: {
        replicas: 1, selector: { matchLabels: { app: name } },
        template: { metadata: { labels: { app: name } }, spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'app', image: image(name), imagePullPolicy: 'IfNotPresent', command: ['sleep', 'infinity'] }] } },
      },
    })),
  });
}

interface Edit {
  /** The body this version serves. */
  readonly marker: string;
  /** File write → the new body served. */
  readonly servedMs: number;
  /** The client's last old body → its first new body. */
  readonly unavailableMs: number;
}

interface EditTarget {
  readonly file: string;
  readonly source: (body: string) => string;
  readonly port: number;
}

/**
 * Writes `count` versions of each target's file (after one warm-up edit each), taking turns between the
 * targets so that they share the machine's load; each time, how long until the port serves it.
 */
async function edits(targets: readonly EditTarget[], count: number, timeoutMs: number, afterEach?: () => Promise<void>): Promise<Edit[][]> {
  const samples: Edit[][] = targets.map(() => []);
  for (let i = 0; i <= count; i++) {
    for (const [t, { file, source, port }] of targets.entries()) {
      const marker = `floor-${i}-${Date.now()}`;
      let lastOldAt = performance.now();
      const savedAt = performance.now();
      writeFileSync(file, source(marker));
      const servedAt = await until(`edit ${i} on :${port}`, async () => {
        const body = await get(port);
        const at = performance.now();
        if (body?.includes(marker)) return at;
        if (body !== undefined) lastOldAt = at;
        return undefined;
      }, timeoutMs, 10);
      if (i > 0) samples[t]!.push({ marker, servedMs: servedAt - savedAt, unavailableMs: servedAt - lastOldAt });
      await sleep(300);
      if (i > 0) await afterEach?.();
    }
  }
  return samples;
}

function devPod(namespace: string, app: string): string {
  return kubectl(['-n', namespace, 'get', 'pods', '-l', `app=${app},nh.dev/mode`, '-o', 'jsonpath={.items[0].metadata.name}']);
}

/** Runs a shell script in the service's dev container; its output lines. */
function inContainer(namespace: string, app: string, script: string): string[] {
  return kubectl(['-n', namespace, 'exec', devPod(namespace, app), '-c', 'app', '--', 'sh', '-c', script]).trim().split('\n');
}

/**
 * The service's unavailable window, seen from inside its pod (what any client there sees, with no forward in
 * the way): the prober keeps one idle keep-alive connection to the server, so the old process's exit reaches it
 * as the connection's end at once, with no polling; from then it dials every 100 µs until a server answers, and
 * prints `gap MICROSECONDS BODY` with the body the new process served. It ends when its stdin does.
 * `probe PORT COMMAND…` is the same client's view of a fresh start, the floor for that window: it starts the
 * command (PORT in its environment), dials the same way until it answers, prints `serves MICROSECONDS`, kills it.
 */
const GAP_PROBER = `package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"time"
)

func get(conn net.Conn, r *bufio.Reader, close bool) (string, error) {
	header := "GET / HTTP/1.1\\r\\nHost: probe\\r\\n"
	if close {
		header += "Connection: close\\r\\n"
	}
	if _, err := io.WriteString(conn, header+"\\r\\n"); err != nil {
		return "", err
	}
	res, err := http.ReadResponse(r, nil)
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	return string(body), err
}

// Dials every 100 µs until a server answers; its body.
func firstAnswer(addr string) string {
	for {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			time.Sleep(100 * time.Microsecond)
			continue
		}
		body, err := get(c, bufio.NewReader(c), true)
		c.Close()
		if err == nil {
			return body
		}
	}
}

func main() {
	addr := "127.0.0.1:" + os.Args[1]
	if len(os.Args) > 2 {
		cmd := exec.Command(os.Args[2], os.Args[3:]...)
		cmd.Env = append(os.Environ(), "PORT="+os.Args[1])
		began := time.Now()
		if err := cmd.Start(); err != nil {
			panic(err)
		}
		firstAnswer(addr)
		fmt.Printf("serves %d\\n", time.Since(began).Microseconds())
		cmd.Process.Kill()
		cmd.Wait()
		return
	}
	go func() { io.Copy(io.Discard, os.Stdin); os.Exit(0) }()
	for {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			time.Sleep(time.Millisecond)
			continue
		}
		r := bufio.NewReader(conn)
		if _, err := get(conn, r, false); err != nil {
			conn.Close()
			continue
		}
		// Idle until the server goes: its exit closes this connection.
		r.Peek(1)
		gone := time.Now()
		conn.Close()
		body := firstAnswer(addr)
		fmt.Printf("gap %d %s\\n", time.Since(gone).Microseconds(), body)
	}
}
`;

/** Builds the gap prober in the Go dev container and starts it on its service's port; stop() ends it and gives its windows by body. */
function startGapProber(namespace: string): { stop(): Promise<Map<string, number>> } {
  const pod = devPod(namespace, 'floor-go');
  kubectl(['-n', namespace, 'exec', '-i', pod, '-c', 'app', '--', 'sh', '-c', 'mkdir -p /tmp/nh-prober && cd /tmp/nh-prober && cat > main.go && { [ -f go.mod ] || go mod init prober >/dev/null 2>&1; } && go build -o probe .'], GAP_PROBER);
  const child = spawn(kubectlBin, ['--kubeconfig', kubeconfig, '-n', namespace, 'exec', '-i', pod, '-c', 'app', '--', '/tmp/nh-prober/probe', '8080'], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  return {
    stop: async () => {
      child.stdin.end();
      await new Promise((r) => child.once('close', r));
      return new Map([...out.matchAll(/^gap (\d+) (.*)$/gm)].map((m) => [m[2]!, Number(m[1]) / 1000]));
    },
  };
}

/** Microseconds from starting the command to its `listening` line, `runs` times, on port 8181 (the service keeps 8080). */
const START_UNTIL_LISTENING = (command: string, runs: number) => `
i=0
while [ $i -lt ${runs} ]; do
  t0=$(date +%s%N)
  PORT=8181 sh -c 'echo $$ > /tmp/.nh-floor.pid; exec ${command}' | { IFS= read -r line; t1=$(date +%s%N); echo "start $(( (t1 - t0) / 1000 ))"; kill $(cat /tmp/.nh-floor.pid); cat >/dev/null; }
  i=$((i+1))
done`;

function nodeFloor(namespace: string): number[] {
  return inContainer(namespace, 'floor-node', `cd /app && ${START_UNTIL_LISTENING('node server.js', FLOOR_RUNS)}`).map((l) => Number(l.split(' ')[1]) / 1000);
}

/**
 * The Go floor, one sample per call, each taken right after one of nh's edits and under the same client (the
 * bench's 10 ms polling of the forward goes on meanwhile), so both see the same load: an incremental `go build`
 * of a one-line change in a copy of the source, then the binary's start until it prints `listening`, and until
 * it answers the gap prober (the needs startGapProber's build); each in ms.
 */
function goFloor(namespace: string): { sample(): Promise<void>; build: number[]; start: number[]; serves: number[] } {
  const pod = devPod(namespace, 'floor-go');
  const args = (script: string) => ['-n', namespace, 'exec', pod, '-c', 'app', '--', 'sh', '-c', script];
  kubectl(args('rm -rf /tmp/nh-floor-go && cp -r /src /tmp/nh-floor-go && cd /tmp/nh-floor-go && go build -o app .'));
  const build: number[] = [];
  const start: number[] = [];
  const serves: number[] = [];
  return {
    build, start, serves,
    async sample() {
      let polling = true;
      const poll = (async () => {
        while (polling) {
          await get(GO_PORT);
          await sleep(10);
        }
      })();
      const output = await kubectlOutput(args(`cd /tmp/nh-floor-go
sed -i "s/^const body = .*/const body = \\"floor-$(date +%s%N)\\"/" main.go
t0=$(date +%s%N); go build -o app . || exit 1; t1=$(date +%s%N)
echo "build $(( (t1 - t0) / 1000 ))"
${START_UNTIL_LISTENING('./app', 1)}
/tmp/nh-prober/probe 8181 ./app`)).finally(() => (polling = false));
      await poll;
      const lines = output.trim().split('\n');
      const of = (kind: string) => lines.filter((l) => l.startsWith(`${kind} `)).map((l) => Number(l.split(' ')[1]) / 1000);
      build.push(...of('build'));
      start.push(...of('start'));
      serves.push(...of('serves'));
    },
  };
}

function reported(log: string, service: string, what: 'saved→synced' | 'synced→restarted'): number[] {
  return [...log.matchAll(new RegExp(`${service}\\s+│ ↻ .*${what} (\\d+) ms`, 'g'))].map((m) => Number(m[1]));
}

async function benchReload(): Promise<void> {
  const namespace = `floor-bench-reload-${process.pid}`;
  const project = mkdtempSync(join(tmpdir(), 'nh-bench-floor-'));
  mkdirSync(join(project, '.nocalhost'));
  mkdirSync(join(project, 'node'));
  mkdirSync(join(project, 'node-fresh'));
  mkdirSync(join(project, 'go'));
  writeFileSync(join(project, '.nocalhost', 'config.yaml'), RELOAD_CONFIG);
  writeFileSync(join(project, 'node', 'server.js'), NODE_SERVER('start'));
  writeFileSync(join(project, 'node-fresh', 'server.js'), NODE_SERVER('start'));
  writeFileSync(join(project, 'go', 'main.go'), GO_SERVER('start'));
  writeFileSync(join(project, 'go', 'go.mod'), 'module example.com/floor\n\ngo 1.26\n');
  kubectl(['create', 'namespace', namespace]);
  let nh: ChildProcess | undefined;
  try {
    kubectl(['-n', namespace, 'apply', '-f', '-'], idleDeployments(['floor-node', 'floor-node-fresh', 'floor-go'], (n) => (n === 'floor-go' ? 'localhost/nh-dev-go:1.26' : 'localhost/nh-dev-node:20')));
    kubectl(['-n', namespace, 'rollout', 'status', 'deploy/floor-node', 'deploy/floor-node-fresh', 'deploy/floor-go', '--timeout=180s']);
    nh = spawn(process.execPath, [join(repo, 'bin/nh.js'), 'up', '--no-install', '-f', join(project, '.nocalhost/config.yaml'), '--kubeconfig', kubeconfig, '-n', namespace], {
      env: { ...process.env, NO_COLOR: '1', NH_IDENTITY: 'bench@nh' }, stdio: ['ignore', 'pipe', 'inherit'],
    });
    let log = '';
    nh.stdout!.setEncoding('utf8').on('data', (d: string) => (log += d));
    // The first Go build compiles the standard library into an empty cache: minutes on a loaded machine.
    const withLog = (error: Error) => Promise.reject(new Error(`${error.message}; nh's output:\n${log.slice(-3000)}`));
    await until('floor-node, floor-node-fresh and floor-go answering', async () => ((await get(NODE_PORT)) && (await get(NODE_FRESH_PORT)) && (await get(GO_PORT)) ? true : undefined), 900_000, 200).catch(withLog);
    // The Go container builds its hand-off helper once, in the background, after its first start (a compile of a
    // few CPU-seconds): the Node edits below would share the 2 cores with it, and their first ones read slow.
    const helper = handoffHelperPath();
    const helperCheck = ['-n', namespace, 'exec', devPod(namespace, 'floor-go'), '-c', 'app', '--', 'sh', '-c', `test -e ${helper} || test -e ${helper}.off && echo done || true`];
    const helperStarted = performance.now();
    await until('floor-go\'s hand-off helper built', async () => (await kubectlOutput(helperCheck)).includes('done') || undefined, 120_000, 200).catch(withLog);
    console.log(`floor-go's hand-off helper: built ${ms(performance.now() - helperStarted)} after the services answered`);

    const [node = [], nodeWithoutStandby = []] = await edits([
      { file: join(project, 'node', 'server.js'), source: NODE_SERVER, port: NODE_PORT },
      { file: join(project, 'node-fresh', 'server.js'), source: NODE_SERVER, port: NODE_FRESH_PORT },
    ], NODE_EDITS, 30_000).catch(withLog);
    const prober = startGapProber(namespace);
    const goFloors = goFloor(namespace);
    const [go = []] = await edits([{ file: join(project, 'go', 'main.go'), source: GO_SERVER, port: GO_PORT }], GO_EDITS, 120_000, () => goFloors.sample()).catch(withLog);
    const gaps = await prober.stop();
    const fresh: number[] = [];
    for (let i = 0; i < FLOOR_RUNS; i++) fresh.push(await freshRequestMs(NODE_PORT));
    const nodeStart = summary(nodeFloor(namespace));
    nh.kill('SIGINT');
    await new Promise((r) => nh!.once('close', r));
    nh = undefined;
    const logFile = join(tmpdir(), `nh-floor-bench-${process.pid}.log`);
    writeFileSync(logFile, log);
    console.log(`nh's output: ${logFile}`);

    const nodeSync = summary(reported(log, 'floor-node', 'saved→synced'));
    const goSync = summary(reported(log, 'floor-go', 'saved→synced'));
    const nodeServed = summary(node.map((e) => e.servedMs));
    const nodeServedWithout = summary(nodeWithoutStandby.map((e) => e.servedMs));
    const nodeFloorMs = nodeStart.p50 + nodeSync.p50;
    console.log(`Node: process start → listening in the dev container, p50 of ${nodeStart.n}: ${ms(nodeStart.p50)} (min ${ms(nodeStart.min)}, max ${ms(nodeStart.max)})`);
    console.log(`Node: one-file sync (nh's saved→synced), p50 of ${nodeSync.n}: ${ms(nodeSync.p50)}; floor = ${ms(nodeFloorMs)}`);
    console.log(`Node: nh save → new body through the forward, ${nodeServed.n} edits: p50 ${ms(nodeServed.p50)}, p95 ${ms(nodeServed.p95)}, min ${ms(nodeServed.min)} [${node.map((e) => e.servedMs.toFixed(0)).join(', ')}]`);
    console.log(`Node: ratio to the floor: p50 ${(nodeServed.p50 / nodeFloorMs).toFixed(2)}× (goal ≤ 1.3×), p95 ${(nodeServed.p95 / nodeFloorMs).toFixed(2)}× (goal ≤ 1.6×)`);
    console.log(`  nh's own report, synced→restarted p50 ${ms(summary(reported(log, 'floor-node', 'synced→restarted')).p50)}; one request on a new connection through the forward (a new tunnel) p50 ${ms(summary(fresh).p50)}`);
    console.log(`Node without the standby (floor-node-fresh, its edits taking turns with floor-node's): p50 ${ms(nodeServedWithout.p50)}, p95 ${ms(nodeServedWithout.p95)} [${nodeWithoutStandby.map((e) => e.servedMs.toFixed(0)).join(', ')}]; ratio to the floor p50 ${(nodeServedWithout.p50 / nodeFloorMs).toFixed(2)}×, p95 ${(nodeServedWithout.p95 / nodeFloorMs).toFixed(2)}×`);

    const goBuild = summary(goFloors.build);
    const goStart = summary(goFloors.start);
    const goServed = summary(go.map((e) => e.servedMs));
    const goDown = summary(go.map((e) => e.unavailableMs));
    const inPod = go.map((e) => gaps.get(e.marker)).filter((gap) => gap !== undefined);
    if (inPod.length !== go.length) throw new Error(`the gap prober saw ${inPod.length} of ${go.length} swaps`);
    const goGap = summary(inPod);
    const goFloorMs = goBuild.p50 + goStart.p50 + goSync.p50;
    console.log(`Go: incremental go build in the dev container, p50 of ${goBuild.n}: ${ms(goBuild.p50)}; binary start → listening p50 ${ms(goStart.p50)}; one-file sync p50 ${ms(goSync.p50)}; floor = ${ms(goFloorMs)}`);
    console.log(`Go: nh save → new body through the forward, ${goServed.n} edits: p50 ${ms(goServed.p50)}, p95 ${ms(goServed.p95)}, min ${ms(goServed.min)}; ratio p50 ${(goServed.p50 / goFloorMs).toFixed(2)}× (goal ≤ 1.15×)`);
    console.log(`  nh's own report, synced→restarted (the build, the swap) p50 ${ms(summary(reported(log, 'floor-go', 'synced→restarted')).p50)}; each edit, the floor's build / nh save → new body: ${go.map((e, i) => `${goFloors.build[i]?.toFixed(0)}/${e.servedMs.toFixed(0)}`).join(', ')} ms`);
    const goServes = summary(goFloors.serves);
    console.log(`Go: unavailable in the pod (the old process's exit → the new one's first answer, a prober beside it), p50 ${ms(goGap.p50)}, p95 ${ms(goGap.p95)} [${inPod.map((g) => g.toFixed(1)).join(', ')}]; the same prober's view of a fresh start (start → first answer) p50 ${ms(goServes.p50)} [${goFloors.serves.map((g) => g.toFixed(1)).join(', ')}]; ratio p50 ${(goGap.p50 / goServes.p50).toFixed(2)}× that, ${(goGap.p50 / goStart.p50).toFixed(2)}× start → listening (goal ≤ 1.2×)`);
    console.log(`Go: unavailable through nh's forward (the bench client's last old body → its first new body, polling every 10 ms), p50 ${ms(goDown.p50)}, p95 ${ms(goDown.p95)}; ratio p50 to the binary's start ${(goDown.p50 / goStart.p50).toFixed(2)}×`);
  } finally {
    nh?.kill('SIGKILL');
    spawnSync(kubectlBin, ['--kubeconfig', kubeconfig, 'delete', 'namespace', namespace, '--wait=false'], { stdio: 'ignore' });
    rmSync(project, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------- dev-mode entry
const SERVICES = Array.from({ length: 10 }, (_, i) => `floor-${i}`);

function settle(namespace: string): void {
  for (const name of SERVICES) kubectl(['-n', namespace, 'rollout', 'status', `deployment/${name}`, '--timeout=240s']);
}

/** The dev pod template and strategy nh writes for each Deployment, taken from one `nh up --detach`. */
function devTemplates(namespace: string, cwd: string): Map<string, string> {
  timedNh(namespace, cwd, ['up', '--detach']);
  const list = JSON.parse(kubectl(['-n', namespace, 'get', 'deployments', '-o', 'json'])) as { items: { metadata: { name: string }; spec: { template: unknown; strategy: unknown } }[] };
  timedNh(namespace, cwd, ['down']);
  settle(namespace);
  return new Map(list.items.map((d) => [d.metadata.name, JSON.stringify({ spec: { template: d.spec.template, strategy: d.spec.strategy } })]));
}

/** A process run to its end, on the epoch clock (so its marks line up with the timeline's). */
interface Ran {
  readonly started: number;
  readonly exited: number;
  readonly stderr: string;
}

/** Runs a command without blocking the bench's event loop (its watches keep receiving); throws when it fails. */
function run(command: string, args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const started = epochNow();
    const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const exited = epochNow();
      if (code === 0) resolve({ started, exited, stderr });
      else reject(new Error(`${command} ${args.join(' ')} exited ${code}:\n${out}${stderr}`));
    });
  });
}

/** NH_BENCH_TIMELINE=1: each entry also reports where its time went (bench/entry-timeline.ts). */
const timeline = process.env['NH_BENCH_TIMELINE'] === '1';
const requestTimes = fileURLToPath(new URL('./request-times.preload.js', import.meta.url));

/** One side's entries: each one's wall time, and its steps when the timeline is on. */
interface Side {
  readonly label: string;
  readonly times: number[];
  readonly steps: Map<Step, number>[];
}

const side = (label: string): Side => ({ label, times: [], steps: [] });
const mean = (values: readonly number[]) => values.reduce((sum, v) => sum + v, 0) / values.length;

/** Times `entry` (watched by a timeline when it is on): its wall time goes to the side, with its steps. */
async function timed(into: Side, namespace: string, names: readonly string[], entry: (watched: EntryTimeline | undefined) => Promise<number>): Promise<void> {
  const watched = timeline ? await EntryTimeline.open(namespace, names) : undefined;
  watched?.begin();
  into.times.push(await entry(watched));
  if (!watched) return;
  const steps = await watched.close();
  into.steps.push(steps);
  console.log(timelineLine(`${into.label} run ${into.times.length}, ${names.length} service${names.length > 1 ? 's' : ''}`, steps));
}

/** `nh up --detach` of these services, as a fresh process (with the request log when the timeline is on). */
async function nhUp(namespace: string, cwd: string, names: readonly string[], bin: string, watched: EntryTimeline | undefined): Promise<number> {
  const nh = nhCommand(bin, watched ? [`--import=${requestTimes}`] : [], ['up', '--detach', ...names, '--kubeconfig', kubeconfig, '-n', namespace], { ...process.env, NO_COLOR: '1', NH_IDENTITY: 'bench@nh' });
  const ran = await run(nh.command, nh.args, { cwd, env: nh.env });
  const marks = nhMarks(ran.stderr);
  watched?.mark('V8 started', marks.v8Start);
  watched?.mark('Node bootstrap complete', marks.bootstrapComplete);
  watched?.mark('first request', marks.firstRequest);
  watched?.mark('patch sent', marks.patchSent);
  watched?.mark('client exit', ran.exited);
  return ran.exited - ran.started;
}

/** The same change by hand: one `kubectl patch` per Deployment, all at once, then `kubectl rollout status` of each. */
async function byHand(namespace: string, names: readonly string[], patches: ReadonlyMap<string, string>, watched: EntryTimeline | undefined): Promise<number> {
  const verbose = watched ? ['-v=6'] : [];
  const env = { ...process.env, TZ: 'UTC' };
  const cluster = ['--kubeconfig', kubeconfig, '-n', namespace];
  const started = epochNow();
  const patched = await Promise.all(names.map((name) => run(kubectlBin, [...cluster, ...verbose, 'patch', 'deployment', name, '--type', 'merge', '-p', patches.get(name)!], { env })));
  let exited = started;
  for (const name of names) exited = (await run(kubectlBin, [...cluster, 'rollout', 'status', `deployment/${name}`, '--timeout=240s'])).exited;
  const marks = patched.map((p) => kubectlMarks(p.stderr));
  watched?.mark('first request', Math.min(...marks.map((m) => m.firstRequest ?? Infinity)));
  watched?.mark('patch sent', Math.max(...marks.map((m) => m.patchSent ?? -Infinity)));
  watched?.mark('client exit', exited);
  return exited - started;
}

/**
 * An untimed pause of 0–1 s before each timed entry. A dev pod counts as Ready at the kubelet's next relist
 * (every 1 s) after its container started, so each entry takes about a whole number of seconds plus its own
 * work; the steps between entries take about the same time in every run, so without the pause each side
 * started at the same point of that 1 s cycle run after run, and the 1-service ratio read 1.1× or 2.0×
 * depending only on the order of the steps.
 */
async function offBeat(): Promise<void> {
  await sleep(Math.random() * 1000);
}

async function benchEntry(): Promise<void> {
  const namespace = `floor-bench-entry-${process.pid}`;
  const project = mkdtempSync(join(tmpdir(), 'nh-bench-floor-'));
  kubectl(['create', 'namespace', namespace]);
  try {
    const manifests = idleDeployments(SERVICES, () => 'localhost/nh-dev-min:1');
    kubectl(['-n', namespace, 'apply', '-f', '-'], manifests);
    settle(namespace);
    mkdirSync(join(project, '.nocalhost'));
    const services = SERVICES.map((name) => ({ name, serviceType: 'deployment', containers: [{ name: 'app', dev: { image: 'localhost/nh-dev-min:1', imagePullPolicy: 'IfNotPresent', workDir: '/work' } }] }));
    writeFileSync(join(project, '.nocalhost', 'config.yaml'), JSON.stringify({ configProperties: { version: 'v2' }, application: { name: 'floor', services } }));
    const patches = devTemplates(namespace, project);
    const originals = kubectl(['-n', namespace, 'get', 'deployments', '-o', 'json']).replace(/"resourceVersion": "\d+",?/g, '');
    for (const count of ENTRY_SERVICES) {
      const names = SERVICES.slice(0, count);
      const nh = side('nh');
      const hand = side('kubectl');
      const before = side('before');
      for (let run = 0; run < ENTRY_RUNS; run++) {
        await offBeat();
        await timed(nh, namespace, names, (watched) => nhUp(namespace, project, names, nhBin, watched));
        timedNh(namespace, project, ['down', ...names]);
        settle(namespace);
        await offBeat();
        await timed(hand, namespace, names, (watched) => byHand(namespace, names, patches, watched));
        kubectl(['-n', namespace, 'replace', '-f', '-'], originals);
        settle(namespace);
        if (beforeBin) {
          const bin = beforeBin;
          await offBeat();
          await timed(before, namespace, names, (watched) => nhUp(namespace, project, names, bin, watched));
          timedNh(namespace, project, ['down', ...names]);
          settle(namespace);
        }
      }
      const a = summary(nh.times);
      const b = summary(hand.times);
      console.log(`dev-mode entry, ${count} service${count > 1 ? 's' : ''}: nh up --detach p50 ${ms(a.p50)} (min ${ms(a.min)}, max ${ms(a.max)}); kubectl patch + rollout status p50 ${ms(b.p50)} (min ${ms(b.min)}, max ${ms(b.max)}); ratio ${(a.p50 / b.p50).toFixed(2)}× (goal ≤ 1.1×, n=${a.n} each, interleaved)`);
      console.log(`  each run, nh / kubectl: ${nh.times.map((t, i) => `${t.toFixed(0)}/${hand.times[i]!.toFixed(0)}`).join(', ')} ms`);
      // Each side's times fall in humps a relist (1 s) apart, so a median jumps between humps; the mean moves
      // with a side's own delay (the pause before each entry makes the relist's phase uniform).
      console.log(`  means: nh ${ms(mean(nh.times))}, kubectl ${ms(mean(hand.times))}; ratio ${(mean(nh.times) / mean(hand.times)).toFixed(2)}×${before.times.length ? `; NH_BENCH_BEFORE ${ms(mean(before.times))}, ratio ${(mean(before.times) / mean(hand.times)).toFixed(2)}×` : ''}`);
      if (before.times.length > 0) {
        const c = summary(before.times);
        console.log(`  NH_BENCH_BEFORE's nh up --detach, same runs: p50 ${ms(c.p50)} (min ${ms(c.min)}, max ${ms(c.max)}); ratio ${(c.p50 / b.p50).toFixed(2)}× [${before.times.map((t) => t.toFixed(0)).join(', ')}]`);
      }
      if (timeline) console.log(timelineTable(new Map([nh, hand, ...(before.times.length ? [before] : [])].map((s) => [s.label, s.steps]))));
    }
  } finally {
    spawnSync(kubectlBin, ['--kubeconfig', kubeconfig, 'delete', 'namespace', namespace, '--wait=false'], { stdio: 'ignore' });
    rmSync(project, { recursive: true, force: true });
  }
}

const part = process.argv[2];
if (part === undefined || part === 'reload') await benchReload();
if (part === undefined || part === 'devmode') await benchEntry();
