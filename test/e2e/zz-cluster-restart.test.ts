// Runs LAST among the e2e files (sorted by name, --test-concurrency=1): `cluster:down` leaves nothing of the
// cluster behind, and `cluster:up` afterwards brings back a working cluster for whatever runs next.
// Set NH_E2E_SKIP_RESTART=1 to skip (e.g. while other e2e runs share the cluster).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import {
  appsApi,
  clusterRoot,
  ensureCluster,
  kubeconfigPath,
  makeKubeConfig,
  runClusterScript,
  waitForDeployment,
  withNamespace,
} from './support/cluster.js';

const skip = process.env.NH_E2E_SKIP_RESTART ? 'NH_E2E_SKIP_RESTART is set' : false;
const pidDir = join(clusterRoot, 'pids');
const ctrSocket = '/run/nh-cluster/containerd/containerd.sock';

function recordedPids(): number[] {
  if (!existsSync(pidDir)) return [];
  return readdirSync(pidDir)
    .filter((f) => f.endsWith('.pid'))
    .map((f) => Number(readFileSync(join(pidDir, f), 'utf8').split(/\s+/)[0]))
    .filter((p) => Number.isInteger(p) && p > 0);
}

function alive(pid: number): boolean {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return !/^State:\s+Z/m.test(status);
  } catch {
    return false;
  }
}

/** Processes that belong to the cluster: binaries from its bin dir, our containerd, shims of our socket. */
function clusterProcesses(): string[] {
  const binDir = existsSync(join(clusterRoot, 'bin')) ? realpathSync(join(clusterRoot, 'bin')) : undefined;
  const found: string[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    let cmdline: string;
    let exe = '';
    try {
      cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
      exe = readlinkSync(`/proc/${entry}/exe`);
    } catch {
      continue;
    }
    if (!alive(Number(entry))) continue;
    const ours =
      (binDir !== undefined && exe.startsWith(binDir + '/')) ||
      cmdline.includes(ctrSocket) ||
      (cmdline.includes('containerd') && cmdline.includes(join(clusterRoot, 'config')));
    if (ours) found.push(`${entry}: ${cmdline}`);
  }
  return found;
}

test('cluster:down stops everything it started and leaves no network leftovers', { skip, timeout: 120_000 }, async () => {
  await ensureCluster();
  const pids = recordedPids();
  assert.ok(pids.length >= 6, `expected pid files of at least 6 components, got ${pids.length}`);
  const r = await runClusterScript('down.sh');
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(pids.filter(alive), [], 'component pids still alive after down');
  assert.deepEqual(clusterProcesses(), [], 'cluster processes still running after down');
  const links = execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' });
  assert.doesNotMatch(links, /\bnhbr0\b/);
  const nat = execFileSync('iptables-save', ['-t', 'nat'], { encoding: 'utf8' });
  assert.doesNotMatch(nat, /nh-cluster/);
  assert.doesNotMatch(nat, /KUBE-SERVICES|KUBE-SVC-/, 'kube-proxy rules left behind');
  const filter = execFileSync('iptables-save', ['-t', 'filter'], { encoding: 'utf8' });
  assert.doesNotMatch(filter, /nh-cluster-no-egress/);
  const mounts = readFileSync('/proc/self/mounts', 'utf8');
  assert.doesNotMatch(mounts, / \/(var\/lib|run)\/nh-cluster\//);
});

test('cluster:up brings the cluster back and it runs pods again', { skip, timeout: 600_000 }, async (t) => {
  const started = Date.now();
  const r = await runClusterScript('up.sh');
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines[lines.length - 1], kubeconfigPath, 'up.sh prints the kubeconfig path last');
  t.diagnostic(`warm cluster:up took ${((Date.now() - started) / 1000).toFixed(1)} s`);
  const ns = await withNamespace(t, 'restart');
  const kc = makeKubeConfig();
  await appsApi(kc).createNamespacedDeployment({
    namespace: ns,
    body: {
      metadata: { name: 'inv' },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'inv' } },
        template: {
          metadata: { labels: { app: 'inv' } },
          spec: { containers: [{ name: 'inv', image: 'localhost/booking-inventory:1.0', imagePullPolicy: 'Never' }] },
        },
      },
    },
  });
  await waitForDeployment(ns, 'inv', 90_000, kc);
});
