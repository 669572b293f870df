// `nh logs -f` across a pod replacement, and `nh exec` (command exit codes, shell fallback to sh, workDir).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../../support/paths.js';
import { kubeconfigPath, kubectl, useNamespace, waitFor } from '../support/cluster.js';
import { projectWith, runNh, spawnNh } from '../support/nh.js';

const namespace = useNamespace('devloop-logs');

const TALKER = `apiVersion: apps/v1
kind: Deployment
metadata: {name: talker}
spec:
  replicas: 1
  selector: {matchLabels: {app: talker}}
  template:
    metadata: {labels: {app: talker}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: main
        image: localhost/nh-dev-min:1
        imagePullPolicy: IfNotPresent
        command: [sh, -c, "trap 'exit 0' TERM; i=0; while :; do i=$((i+1)); echo \\"line $i $HOSTNAME\\"; sleep 0.2 & wait $!; done"]
`;

const CONFIG = `configProperties: {version: v2}
application:
  services:
    - name: talker
      serviceType: deployment
      containers:
        - name: main
          dev:
            image: localhost/nh-dev-min:1
            imagePullPolicy: IfNotPresent
            workDir: /work/here
            sync: {type: send, localPath: .}
`;

/** `nh exec` with the cluster flags before `--` (words after it belong to the command), stdin from `input`. */
function nhExec(cwd: string, args: readonly string[], input = ''): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const dashdash = args.indexOf('--');
  const words = dashdash < 0 ? [...args] : args.slice(0, dashdash);
  const rest = dashdash < 0 ? [] : args.slice(dashdash);
  const child = spawn(process.execPath, [join(repoRoot, 'bin/nh.js'), 'exec', ...words, '--kubeconfig', kubeconfigPath, '-n', namespace(), ...rest], {
    cwd,
    env: { ...process.env, NO_COLOR: '1' },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.stdin.end(input);
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}

test('nh logs -f follows the new pod after a replacement, without repeating lines', async () => {
  kubectl(['-n', namespace(), 'apply', '-f', '-'], { input: TALKER });
  kubectl(['-n', namespace(), 'rollout', 'status', 'deploy/talker', '--timeout=120s']);
  const project = projectWith(CONFIG);
  const nh = spawnNh(namespace(), ['logs', 'talker', '-f'], { cwd: project });
  let out = '';
  nh.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  nh.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d));
  try {
    const first = await waitFor('a first line', () => /line \d+ (talker-\S+)/.exec(out)?.[1], 60_000, 100);
    kubectl(['-n', namespace(), 'delete', 'pod', first, '--wait=false']);
    await waitFor('a line from the new pod', () => [...out.matchAll(/line \d+ (talker-\S+)/g)].some((m) => m[1] !== first), 120_000, 100);
    const numbers = [...out.matchAll(new RegExp(`line (\\d+) ${first}`, 'g'))].map((m) => Number(m[1]));
    assert.deepEqual(numbers, [...new Set(numbers)].sort((a, b) => a - b), 'each line once, in order');
    nh.kill('SIGINT');
    const code = await new Promise((resolve) => nh.once('exit', resolve));
    assert.equal(code, 0, out);
  } finally {
    if (nh.exitCode === null) nh.kill('SIGKILL');
  }
});

test('nh exec runs a command (exit code kept) and falls back to sh where there is no bash, in workDir', async () => {
  kubectl(['-n', namespace(), 'apply', '-f', '-'], { input: TALKER });
  const project = projectWith(CONFIG);
  const up = await runNh(namespace(), ['up', '--detach', 'talker'], { cwd: project });
  assert.equal(up.code, 0, up.stdout + up.stderr);
  try {
    const command = await nhExec(project, ['talker', '--', 'sh', '-c', 'echo "in $(pwd)"; exit 3']);
    assert.equal(command.code, 3, command.stderr);
    assert.equal(command.stdout, 'in /work/here\n');
    const shell = await nhExec(project, ['talker'], 'readlink /proc/$$/exe; exit 5\n');
    assert.equal(shell.code, 5, shell.stderr);
    assert.match(shell.stdout, /busybox/, 'the image has no bash: sh (busybox) runs');
  } finally {
    await runNh(namespace(), ['down', 'talker'], { cwd: project });
  }
});
