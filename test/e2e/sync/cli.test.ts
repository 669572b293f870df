// `nh sync` as a user runs it: one-off, --check, --watch, against a Deployment whose pods carry the
// dev-mode label (what `nh up --detach` leaves), with a config file in a scratch project.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../../support/paths.js';
import { kubeconfigPath, useNamespace, waitFor } from '../support/cluster.js';
import { connectTo, createDevDeployment, waitForSameTree, WORKDIR } from './support.js';

const ns = useNamespace('sync-cli');
const APP = 'sync-cli';
const bin = join(repoRoot, 'bin/nh.js');
const project = mkdtempSync(join(tmpdir(), 'nh-sync-cli-'));
const src = join(project, 'src');

after(() => rmSync(project, { recursive: true, force: true }));

function nh(args: readonly string[]) {
  const r = spawnSync(process.execPath, [bin, ...args, '--kubeconfig', kubeconfigPath, '-n', ns(), '--no-color'], { cwd: project, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('nh sync, nh sync --check, nh sync --watch', async () => {
  await createDevDeployment(ns(), APP);
  mkdirSync(join(project, '.nocalhost'));
  mkdirSync(join(src, 'lib'), { recursive: true });
  writeFileSync(
    join(project, '.nocalhost/config.yaml'),
    [
      'configProperties: {version: v2}',
      'application:',
      '  services:',
      `    - name: ${APP}`,
      '      serviceType: deployment',
      '      containers:',
      '        - name: dev',
      '          dev:',
      `            workDir: ${WORKDIR}/cli`,
      '            sync: {type: send, localPath: ./src, ignoreFilePattern: ["*.tmp"]}',
      '',
    ].join('\n'),
  );
  writeFileSync(join(src, 'index.js'), 'one');
  writeFileSync(join(src, 'lib/util.js'), 'two');
  writeFileSync(join(src, 'scratch.tmp'), 'not synced');
  const connect = connectTo(ns(), APP, `${WORKDIR}/cli`);
  const notSynced = (path: string) => path.endsWith('.tmp');

  const first = nh(['sync']);
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stderr, /sync-cli initial sync: 3 written, 0 deleted, 6 B/);
  await waitForSameTree(src, connect, notSynced);

  const clean = nh(['sync', '--check']);
  assert.equal(clean.code, 0, clean.stdout + clean.stderr);
  assert.match(clean.stdout, /sync-cli: in sync/);

  writeFileSync(join(src, 'index.js'), 'ONE');
  rmSync(join(src, 'lib/util.js'));
  const drift = nh(['sync', '--check']);
  assert.equal(drift.code, 1, drift.stdout + drift.stderr);
  assert.match(drift.stdout, /sync-cli: 2 differences/);
  assert.match(drift.stdout, /content differs\s+index\.js/);
  assert.match(drift.stdout, /only in container\s+lib\/util\.js/);

  const again = nh(['sync']);
  assert.equal(again.code, 0, again.stderr);
  const after = nh(['sync', '--check']);
  assert.equal(after.code, 0, after.stdout + after.stderr);

  const watching = spawn(process.execPath, [bin, 'sync', '--watch', '-v', '--kubeconfig', kubeconfigPath, '-n', ns(), '--no-color'], { cwd: project });
  let stderr = '';
  watching.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => watching.on('close', resolve));
  try {
    await waitFor('the initial sync of --watch', () => stderr.includes('initial sync'), 60_000, 50);
    writeFileSync(join(src, 'lib/new.js'), 'three');
    await waitFor('a live batch', () => /sync-cli synced: 1 written/.test(stderr), 30_000, 50);
    await waitForSameTree(src, connect, notSynced);
  } finally {
    watching.kill('SIGINT');
  }
  assert.equal(await exited, 0, stderr);
});
