// bin/nh, the command npm installs: Node starts without NODE_EXTRA_CA_CERTS (Node parses it at every start),
// the processes nh starts get it back, and a kubeconfig whose TLS nh does not configure itself runs nh again
// with it. Node warns on stderr when the file it names cannot be read: that warning shows which process read it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../../support/paths.js';
import { tempDir } from '../../support/temp-dir.js';

const NODE_READ_IT = /Ignoring extra certs from/;

function run(command: string, args: readonly string[], env: Record<string, string | undefined>) {
  const result = spawnSync(command, args, { cwd: repoRoot, env: { ...process.env, NO_COLOR: '1', ...env }, encoding: 'utf8' });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function kubeconfig(dir: string, name: string, user: object, cluster: object = {}): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify({
    apiVersion: 'v1', kind: 'Config', 'current-context': 'dev',
    clusters: [{ name: 'c', cluster: { server: 'https://127.0.0.1:1', ...cluster } }],
    users: [{ name: 'u', user }],
    contexts: [{ name: 'dev', context: { cluster: 'c', user: 'u' } }],
  }));
  return path;
}

test('bin/nh, run through a symbolic link as npm installs it: Node starts without NODE_EXTRA_CA_CERTS', () => {
  const dir = tempDir('nh-launcher-');
  const notCerts = join(dir, 'missing.pem');
  symlinkSync(join(repoRoot, 'bin/nh'), join(dir, 'nh'));
  const viaLink = run(join(dir, 'nh'), ['--version'], { NODE_EXTRA_CA_CERTS: notCerts });
  assert.equal(viaLink.code, 0, viaLink.stderr);
  assert.match(viaLink.stdout, /^\d+\.\d+\.\d+\n$/);
  assert.doesNotMatch(viaLink.stderr, NODE_READ_IT);
  // The same without the launcher: Node reads the file as it starts.
  const direct = run(process.execPath, ['bin/nh.js', '--version'], { NODE_EXTRA_CA_CERTS: notCerts });
  assert.match(direct.stderr, NODE_READ_IT);
});

test('what nh starts (an exec plugin) gets NODE_EXTRA_CA_CERTS back', () => {
  const dir = tempDir('nh-launcher-');
  const certs = join(dir, 'extra.pem');
  writeFileSync(certs, '');
  const seen = join(dir, 'seen');
  const credential = JSON.stringify({ apiVersion: 'client.authentication.k8s.io/v1', kind: 'ExecCredential', status: { token: 't' } });
  const plugin = `require('fs').writeFileSync(${JSON.stringify(seen)}, String(process.env.NODE_EXTRA_CA_CERTS)); console.log(${JSON.stringify(credential)})`;
  const config = kubeconfig(dir, 'exec.yaml', { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: process.execPath, args: ['-e', plugin], interactiveMode: 'Never' } });
  const r = run(join(repoRoot, 'bin/nh'), ['status', '-f', 'examples/booking/.nocalhost/config.yaml', '--kubeconfig', config], { NODE_EXTRA_CA_CERTS: certs });
  assert.equal(r.code, 1, r.stdout + r.stderr); // nothing listens on 127.0.0.1:1
  assert.equal(readFileSync(seen, 'utf8'), certs);
});

test('an auth-provider or an https proxy: nh runs again with NODE_EXTRA_CA_CERTS; other kubeconfigs do not', () => {
  const dir = tempDir('nh-launcher-');
  const notCerts = join(dir, 'missing.pem');
  const status = (config: string) => run(join(repoRoot, 'bin/nh'), ['status', '-f', 'examples/booking/.nocalhost/config.yaml', '--kubeconfig', config], { NODE_EXTRA_CA_CERTS: notCerts });
  const oidc = status(kubeconfig(dir, 'oidc.yaml', { 'auth-provider': { name: 'oidc', config: { 'client-id': 'nh', 'id-token': 'x', 'idp-issuer-url': 'https://127.0.0.1:1' } } }));
  assert.equal(oidc.code, 1, oidc.stderr);
  assert.equal(oidc.stderr.match(new RegExp(NODE_READ_IT, 'g'))?.length, 1, oidc.stderr);
  const proxied = status(kubeconfig(dir, 'proxy.yaml', { token: 't' }, { 'proxy-url': 'https://127.0.0.1:1' }));
  assert.equal(proxied.code, 1, proxied.stderr);
  assert.match(proxied.stderr, NODE_READ_IT);
  const plain = status(kubeconfig(dir, 'plain.yaml', { token: 't' }));
  assert.equal(plain.code, 1, plain.stderr);
  assert.doesNotMatch(plain.stderr, NODE_READ_IT);
});
