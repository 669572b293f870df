// bin/nh, the command npm installs: Node starts without NODE_EXTRA_CA_CERTS (Node parses it at every start)
// and with a default CA store nh leaves empty (src/kube/trust.ts), the processes nh starts get the variable back,
// and a kubeconfig whose TLS nh does not configure itself runs nh again with Node's defaults. Node warns on stderr
// when the file NODE_EXTRA_CA_CERTS names cannot be read: that warning shows which process read it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
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

/** Each Node process nh runs as (through a preload in NODE_OPTIONS): its Node options, one line each. */
function nodeStarts(dir: string): { env: Record<string, string>; options: () => string[][] } {
  const log = join(dir, 'starts.log');
  const preload = join(dir, 'record-start.cjs');
  writeFileSync(log, '');
  writeFileSync(preload, `require('fs').appendFileSync(${JSON.stringify(log)}, JSON.stringify(process.execArgv) + '\\n');`);
  return { env: { NODE_OPTIONS: `--require ${preload}` }, options: () => readFileSync(log, 'utf8').trim().split('\n').filter(Boolean).map((line) => JSON.parse(line) as string[]) };
}

test('bin/nh: Node\'s default store stays empty; nh trusts the kubeconfig\'s CA, or for a cluster without one Node\'s CAs and NODE_EXTRA_CA_CERTS\'s', async () => {
  const dir = tempDir('nh-launcher-');
  const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-days', '1', '-keyout', join(dir, 'server.key'), '-out', join(dir, 'server.crt')]);
  assert.equal(made.status, 0, made.stderr?.toString());
  const other = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', '/CN=other', '-days', '1', '-keyout', join(dir, 'other.key'), '-out', join(dir, 'other.crt')]);
  assert.equal(other.status, 0, other.stderr?.toString());
  const cert = readFileSync(join(dir, 'server.crt'), 'utf8');
  const REACHED = 'the test server answered';
  const server = createServer({ cert, key: readFileSync(join(dir, 'server.key')) }, (_, response) => {
    response.writeHead(500, { 'Content-Type': 'application/json' }).end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', message: REACHED, code: 500 }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const starts = nodeStarts(dir);
  // Asynchronous: the server answers from this process.
  const status = (config: string, env: Record<string, string> = {}) => new Promise<string>((resolve) => {
    execFile(join(repoRoot, 'bin/nh'), ['status', '-f', 'examples/booking/.nocalhost/config.yaml', '--kubeconfig', config], { cwd: repoRoot, env: { ...process.env, NO_COLOR: '1', NODE_EXTRA_CA_CERTS: '', ...starts.env, ...env } }, (_, stdout, stderr) => resolve(stdout + stderr));
  });
  try {
    const at = { server: `https://127.0.0.1:${(server.address() as AddressInfo).port}` };
    const b64 = (text: string) => Buffer.from(text).toString('base64');
    assert.match(await status(kubeconfig(dir, 'own-ca.yaml', { token: 't' }, { ...at, 'certificate-authority-data': b64(cert) })), new RegExp(REACHED));
    assert.deepEqual(starts.options(), [['--use-openssl-ca']], 'one Node, on OpenSSL\'s default store');
    const wrongCA = await status(kubeconfig(dir, 'wrong-ca.yaml', { token: 't' }, { ...at, 'certificate-authority-data': b64(readFileSync(join(dir, 'other.crt'), 'utf8')) }));
    assert.doesNotMatch(wrongCA, new RegExp(REACHED));
    assert.match(wrongCA, /its certificate is not trusted/);
    // Without a CA of its own: Node's bundled CAs (which do not hold this one) and NODE_EXTRA_CA_CERTS's.
    const noCA = kubeconfig(dir, 'no-ca.yaml', { token: 't' }, at);
    assert.doesNotMatch(await status(noCA), new RegExp(REACHED));
    assert.match(await status(noCA, { NODE_EXTRA_CA_CERTS: join(dir, 'server.crt') }), new RegExp(REACHED));
    // An auth-provider makes TLS connections nh does not configure: nh runs again, on Node's default store.
    writeFileSync(join(dir, 'starts.log'), '');
    await status(kubeconfig(dir, 'oidc.yaml', { 'auth-provider': { name: 'oidc', config: { 'client-id': 'nh', 'id-token': 'x', 'idp-issuer-url': 'https://127.0.0.1:1' } } }, at));
    const [first, second] = starts.options();
    assert.equal(starts.options().length, 2);
    assert.ok(first!.includes('--use-openssl-ca') && !second!.includes('--use-openssl-ca'), JSON.stringify(starts.options()));
    // NODE_OPTIONS that picks a store itself: bin/nh adds none (Node refuses two), and nh trusts the same.
    writeFileSync(join(dir, 'starts.log'), '');
    assert.match(await status(kubeconfig(dir, 'own-ca.yaml', { token: 't' }, { ...at, 'certificate-authority-data': b64(cert) }), { NODE_OPTIONS: `${starts.env.NODE_OPTIONS} --use-bundled-ca` }), new RegExp(REACHED));
    assert.deepEqual(starts.options().map((o) => o.includes('--use-openssl-ca')), [false]);
  } finally {
    server.close();
  }
});
