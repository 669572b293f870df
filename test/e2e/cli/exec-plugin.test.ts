// The built CLI with a kubeconfig whose user is an exec plugin: the bundle loads @kubernetes/client-node (left
// out of it) through the launcher's import and reaches the cluster with the plugin's credential.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { repoRoot } from '../../support/paths.js';
import { kubeconfigPath, useNamespace } from '../support/cluster.js';
import { runNh } from '../support/nh.js';

const ns = useNamespace('exec-plugin');

/** The cluster's admin kubeconfig, its client certificate handed out by an exec plugin instead. */
function execPluginKubeconfig(dir: string): string {
  const admin = parse(readFileSync(kubeconfigPath, 'utf8')) as {
    clusters: { cluster: Record<string, string> }[];
    users: { user: Record<string, string> }[];
  };
  const user = admin.users[0]!.user;
  const decode = (data: string | undefined) => (data ? Buffer.from(data, 'base64').toString('utf8') : undefined);
  const credential = {
    apiVersion: 'client.authentication.k8s.io/v1',
    kind: 'ExecCredential',
    status: { clientCertificateData: decode(user['client-certificate-data']), clientKeyData: decode(user['client-key-data']) },
  };
  writeFileSync(join(dir, 'credential.json'), JSON.stringify(credential));
  const path = join(dir, 'kubeconfig');
  writeFileSync(path, JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'c', cluster: admin.clusters[0]!.cluster }],
    users: [{ name: 'plugin', user: { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: 'cat', args: [join(dir, 'credential.json')], interactiveMode: 'Never' } } }],
    contexts: [{ name: 'c', context: { cluster: 'c', user: 'plugin' } }],
    'current-context': 'c',
  }));
  return path;
}

test('nh status through an exec-plugin kubeconfig reads what it reads with the static one', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nh-exec-plugin-'));
  try {
    const cwd = join(repoRoot, 'examples/booking');
    const viaPlugin = await runNh(ns(), ['status', '-o', 'json'], { cwd, kubeconfig: execPluginKubeconfig(dir) });
    assert.equal(viaPlugin.code, 0, viaPlugin.stdout + viaPlugin.stderr);
    const direct = await runNh(ns(), ['status', '-o', 'json'], { cwd });
    assert.equal(direct.code, 0, direct.stdout + direct.stderr);
    assert.deepEqual(JSON.parse(viaPlugin.stdout), JSON.parse(direct.stdout));
    assert.equal((JSON.parse(viaPlugin.stdout) as { services: unknown[] }).services.length, 3);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
