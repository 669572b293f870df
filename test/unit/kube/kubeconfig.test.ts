// The kubeconfig reader: static credentials give the same TLS material, headers and auth as client-node's
// KubeConfig (the oracle); files merge as kubectl merges them; exec plugins go through client-node; bad
// kubeconfigs are named with a hint.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, request, type RequestOptions } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { connect, needsNodeDefaults } from '../../../src/kube/kubeconfig.js';
import type { NhError } from '../../../src/errors.js';
import { tempDir } from '../../support/temp-dir.js';

const b64 = (text: string) => Buffer.from(text).toString('base64');
const env = {};

function kubeconfigFile(dir: string, body: object, name = 'config'): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(body)); // JSON is YAML
  return path;
}

function single(cluster: object, user: object, context: object = {}): object {
  return {
    apiVersion: 'v1', kind: 'Config', 'current-context': 'dev',
    clusters: [{ name: 'c', cluster: { server: 'https://127.0.0.1:6443', ...cluster } }],
    users: [{ name: 'u', user }],
    contexts: [{ name: 'dev', context: { cluster: 'c', user: 'u', ...context } }],
  };
}

const pem = (value: unknown) => (Buffer.isBuffer(value) ? value.toString() : JSON.stringify(value));

/** The fields a request takes from the kubeconfig. */
function requestPart(options: RequestOptions): object {
  const headers = (options.headers ?? {}) as Record<string, unknown>;
  return {
    ca: pem(options.ca), cert: pem(options.cert), key: pem(options.key), rejectUnauthorized: options.rejectUnauthorized,
    servername: options.servername, auth: options.auth, authorization: headers['Authorization'], impersonate: headers['Impersonate-User'],
  };
}

test('static credentials: the same request options as client-node, from data or from files relative to the kubeconfig', async () => {
  const dir = tempDir('nh-kubeconfig-');
  mkdirSync(join(dir, 'pki'));
  for (const f of ['ca.crt', 'me.crt', 'me.key']) writeFileSync(join(dir, 'pki', f), `PEM ${f}`);
  const cases: [string, object, object, object?][] = [
    ['data', { 'certificate-authority-data': b64('CA') }, { 'client-certificate-data': b64('CERT'), 'client-key-data': b64('KEY') }, { namespace: 'team' }],
    ['files', { 'certificate-authority': 'pki/ca.crt' }, { 'client-certificate': 'pki/me.crt', 'client-key': 'pki/me.key' }],
    ['token', { 'insecure-skip-tls-verify': true, 'tls-server-name': 'api.internal' }, { token: 'abc' }],
    ['basic', { 'certificate-authority-data': b64('CA') }, { username: 'ann', password: 'secret' }],
    ['impersonation', {}, { token: 'abc', as: 'bob' }],
  ];
  for (const [name, cluster, user, context] of cases) {
    const path = kubeconfigFile(dir, single(cluster, user, context), `${name}.yaml`);
    const ours = await connect({ kubeconfig: path, context: undefined, env });
    const mine: RequestOptions = {};
    await ours.applyToHTTPSOptions(mine);
    const kc = new KubeConfig();
    kc.loadFromFile(path);
    const theirs: RequestOptions = {};
    await kc.applyToHTTPSOptions(theirs);
    assert.deepEqual(requestPart(mine), requestPart(theirs), name);
    assert.equal(ours.server, 'https://127.0.0.1:6443');
    assert.equal(ours.contextName, 'dev');
    assert.equal(ours.namespace, name === 'data' ? 'team' : undefined);
  }
});

test('a token file is read relative to the kubeconfig, on every request; impersonated groups become headers', async () => {
  const dir = tempDir('nh-kubeconfig-');
  writeFileSync(join(dir, 'token'), 'first\n');
  const path = kubeconfigFile(dir, single({}, { 'token-file': 'token', as: 'bob', 'as-groups': ['devs', 'ops'] }));
  const connection = await connect({ kubeconfig: path, context: undefined, env });
  const headersOf = async () => {
    const options: RequestOptions = {};
    await connection.applyToHTTPSOptions(options);
    return options.headers as Record<string, unknown>;
  };
  assert.deepEqual(await headersOf(), { Authorization: 'Bearer first', 'Impersonate-User': 'bob', 'Impersonate-Group': ['devs', 'ops'] });
  writeFileSync(join(dir, 'token'), 'rotated\n');
  assert.equal((await headersOf())['Authorization'], 'Bearer rotated');
});

test('several files: the first to name a cluster, user or context wins, and the first current-context', async () => {
  const dir = tempDir('nh-kubeconfig-');
  const first = kubeconfigFile(dir, {
    clusters: [{ name: 'c', cluster: { server: 'https://first:6443' } }],
    users: [{ name: 'u', user: { token: 'one' } }],
    contexts: [{ name: 'dev', context: { cluster: 'c', user: 'u' } }],
  }, 'a.yaml');
  const second = kubeconfigFile(dir, {
    'current-context': 'dev',
    clusters: [{ name: 'c', cluster: { server: 'https://second:6443' } }, { name: 'other', cluster: { server: 'https://other:6443' } }],
    contexts: [{ name: 'prod', context: { cluster: 'other', user: 'u', namespace: 'live' } }],
  }, 'b.yaml');
  const both = { KUBECONFIG: [first, join(dir, 'missing.yaml'), second].join(':') };
  const dev = await connect({ kubeconfig: undefined, context: undefined, env: both });
  assert.equal(dev.server, 'https://first:6443');
  const prod = await connect({ kubeconfig: undefined, context: 'prod', env: both });
  assert.deepEqual([prod.server, prod.namespace, prod.contextName], ['https://other:6443', 'live', 'prod']);
});

test('an exec plugin is run through client-node', async () => {
  const dir = tempDir('nh-kubeconfig-');
  const credential = JSON.stringify({ apiVersion: 'client.authentication.k8s.io/v1', kind: 'ExecCredential', status: { token: 'from-plugin' } });
  const path = kubeconfigFile(dir, single({}, {
    exec: { apiVersion: 'client.authentication.k8s.io/v1', command: process.execPath, args: ['-e', `console.log(${JSON.stringify(credential)})`], interactiveMode: 'Never' },
  }, { namespace: 'team' }));
  const connection = await connect({ kubeconfig: path, context: undefined, env });
  const options: RequestOptions = {};
  await connection.applyToHTTPSOptions(options);
  assert.equal((options.headers as Record<string, string>)['Authorization'], 'Bearer from-plugin');
  assert.deepEqual([connection.server, connection.contextName, connection.namespace], ['https://127.0.0.1:6443', 'dev', 'team']);
});

test('bad kubeconfigs: what is wrong and what to do', async () => {
  const dir = tempDir('nh-kubeconfig-');
  const refuse = async (options: Parameters<typeof connect>[0], message: RegExp, hint: RegExp) => {
    await assert.rejects(connect(options), (e: NhError) => e.code === 'NH_KUBECONFIG' && message.test(e.message) && hint.test(e.hint ?? ''));
  };
  await refuse({ kubeconfig: join(dir, 'nope'), context: undefined, env }, /^no kubeconfig: .*nope does not exist$/, /--kubeconfig PATH or the KUBECONFIG variable/);
  writeFileSync(join(dir, 'broken'), 'clusters: [unclosed');
  await refuse({ kubeconfig: join(dir, 'broken'), context: undefined, env }, /^cannot read the kubeconfig .*broken: /, /kubectl config view/);
  const noCurrent = kubeconfigFile(dir, { ...single({}, {}), 'current-context': '' }, 'no-current');
  await refuse({ kubeconfig: noCurrent, context: undefined, env }, /has no current context/, /--context/);
  await refuse({ kubeconfig: noCurrent, context: 'staging', env }, /no context `staging` in the kubeconfig/, /contexts: dev/);
  const dangling = kubeconfigFile(dir, { 'current-context': 'dev', contexts: [{ name: 'dev', context: { cluster: 'gone', user: 'u' } }] }, 'dangling');
  await refuse({ kubeconfig: dangling, context: undefined, env }, /context `dev` names no cluster/, /another context/);
});

test('one TLS context serves every connection of a run; material that does not parse is left to each connection', async () => {
  const dir = tempDir('nh-kubeconfig-');
  const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', '/CN=me', '-days', '1', '-keyout', join(dir, 'me.key'), '-out', join(dir, 'me.crt')]);
  assert.equal(made.status, 0, made.stderr?.toString());
  const good = await connect({ kubeconfig: kubeconfigFile(dir, single({ 'certificate-authority': 'me.crt' }, { 'client-certificate': 'me.crt', 'client-key': 'me.key' })), context: undefined, env });
  const first: RequestOptions & { secureContext?: unknown } = {};
  const second: RequestOptions & { secureContext?: unknown } = {};
  await good.applyToHTTPSOptions(first);
  await good.applyToHTTPSOptions(second);
  assert.ok(first.secureContext !== undefined && first.secureContext === second.secureContext);
  const bad = await connect({ kubeconfig: kubeconfigFile(dir, single({}, { 'client-certificate': 'me.crt', 'client-key-data': b64('not a key') }), 'bad.yaml'), context: undefined, env });
  const options: RequestOptions & { secureContext?: unknown } = {};
  await bad.applyToHTTPSOptions(options);
  assert.equal(options.secureContext, undefined);
  assert.equal(pem(options.key), 'not a key');
});

/** GET / through the connection's options: the body, or the TLS or connection error's code. */
async function get(connection: Awaited<ReturnType<typeof connect>>): Promise<string> {
  const url = new URL(connection.server);
  const options: RequestOptions = { host: url.hostname, port: url.port, path: '/', agent: false };
  await connection.applyToHTTPSOptions(options);
  return new Promise((resolve) => {
    request(options, (response) => response.setEncoding('utf8').on('data', resolve)).on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message)).end();
  });
}

test('a cluster without a CA in the kubeconfig: checked against the CAs bin/nh moved aside from NODE_EXTRA_CA_CERTS too', async () => {
  const dir = tempDir('nh-kubeconfig-');
  const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-days', '1', '-keyout', join(dir, 'server.key'), '-out', join(dir, 'server.crt')]);
  assert.equal(made.status, 0, made.stderr?.toString());
  const server = createServer({ cert: readFileSync(join(dir, 'server.crt')), key: readFileSync(join(dir, 'server.key')) }, (_, response) => response.end('ok'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const at = { server: `https://127.0.0.1:${(server.address() as AddressInfo).port}` };
    const moved = { NH_NODE_EXTRA_CA_CERTS: join(dir, 'server.crt') };
    const token = kubeconfigFile(dir, single(at, { token: 't' }), 'token.yaml');
    const plugin = kubeconfigFile(dir, single(at, { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: process.execPath, args: ['-e', 'console.log(JSON.stringify({ apiVersion: "client.authentication.k8s.io/v1", kind: "ExecCredential", status: { token: "t" } }))'], interactiveMode: 'Never' } }), 'plugin.yaml');
    assert.equal(await get(await connect({ kubeconfig: token, context: undefined, env: moved })), 'ok');
    assert.equal(await get(await connect({ kubeconfig: plugin, context: undefined, env: moved })), 'ok');
    assert.equal(await get(await connect({ kubeconfig: token, context: undefined, env })), 'DEPTH_ZERO_SELF_SIGNED_CERT');
    // The kubeconfig's own CA is the only one trusted, as always.
    const other = kubeconfigFile(dir, single({ ...at, 'certificate-authority-data': b64(readFileSync(join(dir, "server.crt"), "utf8")) }, { token: 't' }), 'own-ca.yaml');
    assert.equal(await get(await connect({ kubeconfig: other, context: undefined, env: { NH_NODE_EXTRA_CA_CERTS: join(dir, 'nowhere.pem') } })), 'ok');
    // Only these make connections nh does not configure itself, which need Node to have read the file.
    const needs = (name: string, user: object, cluster: object = {}) => needsNodeDefaults({ kubeconfig: kubeconfigFile(dir, single(cluster, user), name), context: undefined, env: moved });
    assert.equal(needs('oidc.yaml', { 'auth-provider': { name: 'oidc', config: {} } }), true);
    assert.equal(needs('https-proxy.yaml', { token: 't' }, { 'proxy-url': 'https://proxy:3128' }), true);
    assert.equal(needs('http-proxy.yaml', { token: 't' }, { 'proxy-url': 'http://proxy:3128' }), false);
    assert.equal(needsNodeDefaults({ kubeconfig: token, context: undefined, env: moved }), false);
    assert.equal(needsNodeDefaults({ kubeconfig: join(dir, 'oidc.yaml'), context: undefined, env }), false, 'nothing was moved aside');
  } finally {
    server.close();
  }
});
