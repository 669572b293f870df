// The foreground `nh up` on the real cluster: two Node services (front depends on store) in dev mode,
// run, hot reload, a crashing process, dependsOn order, a forward through pod replacement, --debug, and
// Ctrl-C leaving no process behind (in the containers or here), nor SIGKILL in the containers. Times are
// waited for, never asserted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { kubectl, useNamespace, waitFor } from '../support/cluster.js';
import { freePort, idleDeployment, projectWith, spawnNh } from '../support/nh.js';

const namespace = useNamespace('devloop');


/** A Node server answering BODY; STARTUP_DELAY_MS before it listens. */
function server(body: string, options: { delayMs?: number; crash?: boolean } = {}): string {
  if (options.crash) return `console.log('about to crash'); process.exit(3);\n`;
  return `const http = require('http');
const BODY = ${JSON.stringify(body)};
console.log('starting ' + BODY);
const server = http.createServer((req, res) => res.end(BODY));
setTimeout(() => server.listen(8080, () => console.log('listening ' + BODY)), ${options.delayMs ?? 0});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
`;
}

function config(ports: { front: number; store: number; debug: number }): string {
  const service = (name: string, port: number, extra: string) => `
    - name: ${name}
      serviceType: deployment
${extra}      containers:
        - name: app
          dev:
            image: localhost/nh-dev-node:20
            imagePullPolicy: IfNotPresent
            workDir: /app
            command:
              run: [node, server.js]
              debug: [node, --inspect=0.0.0.0:${ports.debug}, server.js]
            debug: {remoteDebugPort: ${ports.debug}, language: node}
            hotReload: true
            sync: {type: send, localPath: ./${name}}
            portForward: ["${port}:8080"]`;
  return `configProperties: {version: v2}\napplication:\n  services:${service('front', ports.front, '      dependsOn: [store]\n')}${service('store', ports.store, '')}\n`;
}

/** nh's output so far, and a way to wait for a line. */
function watchOutput(child: ChildProcess): { text: () => string; line: (pattern: RegExp, timeoutMs?: number) => Promise<string> } {
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d));
  return {
    text: () => out,
    line: (pattern, timeoutMs = 180_000) => waitFor(`a line matching ${pattern}`, () => out.split('\n').find((l) => pattern.test(l)), timeoutMs, 100),
  };
}

async function body(port: number): Promise<string | undefined> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(3_000) });
    return await res.text();
  } catch {
    return undefined;
  }
}

function exited(child: ChildProcess): Promise<number | null> {
  return child.exitCode !== null ? Promise.resolve(child.exitCode) : new Promise((resolve) => child.once('exit', resolve));
}

/** The running dev pod of an app (not one being deleted), or '' when there is none. */
function runningDevPod(app: string): string {
  const pods = JSON.parse(kubectl(['-n', namespace(), 'get', 'pods', '-l', `app=${app},nh.dev/mode=dev`, '-o', 'json']).stdout) as {
    items: { metadata: { name: string; deletionTimestamp?: string }; status: { phase: string } }[];
  };
  return pods.items.find((p) => p.status.phase === 'Running' && !p.metadata.deletionTimestamp)?.metadata.name ?? '';
}

function containerProcesses(app: string): string {
  return kubectl(['-n', namespace(), 'exec', runningDevPod(app), '--', 'ps', '-eo', 'args']).stdout;
}

test('nh up runs, orders, hot-reloads, survives a crash and a pod replacement, and Ctrl-C leaves nothing', async () => {
  kubectl(['-n', namespace(), 'apply', '-f', '-'], { input: `${idleDeployment('front')}---\n${idleDeployment('store')}` });
  const ports = { front: await freePort(), store: await freePort(), debug: 20000 + Math.floor(Math.random() * 9000) };
  const project = projectWith(config(ports));
  for (const name of ['front', 'store']) mkdirSync(join(project, name));
  writeFileSync(join(project, 'front', 'server.js'), server('front v1'));
  // The store listens late: front must not start before it accepts connections.
  writeFileSync(join(project, 'store', 'server.js'), server('store v1', { delayMs: 2_000 }));

  const nh = spawnNh(namespace(), ['up'], { cwd: project });
  const output = watchOutput(nh);
  try {
    await waitFor('front to answer', async () => (await body(ports.front)) === 'front v1', 240_000, 250);
    assert.equal(await body(ports.store), 'store v1');
    const text = output.text();
    assert.ok(text.indexOf('listening store v1') < text.indexOf('starting front v1'), `front started before store listened:\n${text}`);

    // Hot reload: an edit is served by the restarted process, and nh reports the timings.
    writeFileSync(join(project, 'front', 'server.js'), server('front v2'));
    await waitFor('front v2', async () => (await body(ports.front)) === 'front v2', 60_000, 100);
    await output.line(/front\s+│ ↻ 1 file: saved→synced \d+ ms, synced→restarted \d+ ms/);

    // A crashing process is reported; nh stays up, and the next change runs it again.
    writeFileSync(join(project, 'store', 'server.js'), server('', { crash: true }));
    await output.line(/store\s+│ ✖ the process exited with code 3/);
    assert.equal(nh.exitCode, null, 'nh itself keeps running');
    writeFileSync(join(project, 'store', 'server.js'), server('store v3'));
    await waitFor('store v3', async () => (await body(ports.store)) === 'store v3', 60_000, 100);

    // The pod behind a forward is replaced: the same local port reaches the new pod (synced and running again).
    const replaced = runningDevPod('front');
    kubectl(['-n', namespace(), 'delete', 'pod', replaced, '--wait=false']);
    await waitFor('a new front pod', () => ![replaced, ''].includes(runningDevPod('front')), 120_000, 250);
    await waitFor('front answering from the new pod', async () => (await body(ports.front)) === 'front v2', 120_000, 250);

    // Ctrl-C: nh exits by itself, the processes in both containers are gone, nothing listens here anymore.
    nh.kill('SIGINT');
    assert.equal(await exited(nh), 0, output.text());
    assert.match(output.text(), /dev mode stays on for .*`nh down` restores the workloads/);
    for (const app of ['front', 'store']) assert.doesNotMatch(containerProcesses(app), /node server\.js/, `a process was left in ${app}`);
    assert.equal(await body(ports.front), undefined);
    assert.equal(await body(ports.store), undefined);
  } finally {
    if (nh.exitCode === null) nh.kill('SIGKILL');
  }
});

test('nh up --debug --down-on-exit: debug port forwarded, debugger awaited, launch.json merged, workload restored', async () => {
  kubectl(['-n', namespace(), 'apply', '-f', '-'], { input: `${idleDeployment('front')}---\n${idleDeployment('store')}` });
  const ports = { front: await freePort(), store: await freePort(), debug: 20000 + Math.floor(Math.random() * 9000) };
  const project = projectWith(config(ports));
  mkdirSync(join(project, 'front'));
  mkdirSync(join(project, 'store'));
  writeFileSync(join(project, 'front', 'server.js'), server('front debug'));
  writeFileSync(join(project, 'store', 'server.js'), server('store debug'));
  mkdirSync(join(project, '.vscode'));
  writeFileSync(join(project, '.vscode', 'launch.json'), '{\n  // mine\n  "version": "0.2.0",\n  "configurations": [{ "name": "mine", "type": "node", "request": "launch" },],\n}\n');

  const nh = spawnNh(namespace(), ['up', '--debug', '--down-on-exit', 'front'], { cwd: project });
  const output = watchOutput(nh);
  try {
    await output.line(/front\s*: debugger ready: attach a Node inspector to 127\.0\.0\.1:\d+/);
    const version = await fetch(`http://127.0.0.1:${ports.debug}/json/version`).then((r) => r.json() as Promise<Record<string, string>>);
    assert.match(version['Browser'] ?? '', /node\.js/, 'the inspector answers through the forward');
    const launch = readFileSync(join(project, '.vscode', 'launch.json'), 'utf8');
    assert.match(launch, /\/\/ mine/, 'the user’s file is merged into, not replaced');
    assert.match(launch, /"name": "nh: attach front"/);
    assert.match(launch, /"remoteRoot": "\/app"/);
    nh.kill('SIGINT');
    assert.equal(await exited(nh), 0, output.text());
  } finally {
    if (nh.exitCode === null) nh.kill('SIGKILL');
  }
  const front = JSON.parse(kubectl(['-n', namespace(), 'get', 'deployment', 'front', '-o', 'json']).stdout) as { metadata: { annotations?: Record<string, string> } };
  assert.equal(front.metadata.annotations?.['nh.dev/state'], undefined, 'front left dev mode on exit');
  assert.doesNotMatch(output.text(), /dev mode stays on/);
});

test('nh killed with SIGKILL: the process it started in the container stops too', async () => {
  kubectl(['-n', namespace(), 'apply', '-f', '-'], { input: idleDeployment('solo') });
  const port = await freePort();
  const project = projectWith(`configProperties: {version: v2}
application:
  services:
    - name: solo
      serviceType: deployment
      containers:
        - name: app
          dev:
            image: localhost/nh-dev-node:20
            imagePullPolicy: IfNotPresent
            workDir: /app
            command: {run: [node, server.js]}
            sync: {type: send, localPath: ./solo}
            portForward: ["${port}:8080"]
`);
  mkdirSync(join(project, 'solo'));
  writeFileSync(join(project, 'solo', 'server.js'), server('solo v1'));
  const nh = spawnNh(namespace(), ['up'], { cwd: project });
  try {
    await waitFor('solo to answer', async () => (await body(port)) === 'solo v1', 240_000, 250);
    assert.match(containerProcesses('solo'), /node server\.js/);
    nh.kill('SIGKILL');
    await exited(nh);
    await waitFor('the process in the container to stop', () => !/node server\.js/.test(containerProcesses('solo')), 30_000, 250);
  } finally {
    if (nh.exitCode === null) nh.kill('SIGKILL');
  }
});
