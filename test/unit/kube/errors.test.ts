// toKubeError: status code and Status message only (never ApiException.message, which carries headers).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HttpStatusFailure, toKubeError, type KubeOperation } from '../../../src/kube/errors.js';

const patchApi: KubeOperation = { verb: 'patch', kind: 'Deployment', namespace: 'team', name: 'api' };
const status = (code: number, message: string) => JSON.stringify({ kind: 'Status', code, message });

test('403 from RBAC: the verb, the resource and a kubectl auth can-i hint', () => {
  const e = toKubeError(new HttpStatusFailure(403, status(403, 'deployments.apps "api" is forbidden: User "system:serviceaccount:team:dev" cannot patch resource "deployments" in API group "apps" in the namespace "team"')), patchApi);
  assert.equal(e.code, 'NH_KUBE_FORBIDDEN');
  assert.equal(e.message, 'not allowed to patch deployments.apps in namespace `team`');
  assert.equal(e.hint, 'check with `kubectl auth can-i patch deployments.apps -n team`; ask an admin for a Role that allows it');
});

test('403 from a quota or admission: the server words, not an RBAC hint', () => {
  const e = toKubeError(new HttpStatusFailure(403, status(403, 'pods "api-1" is forbidden: exceeded quota: small, requested: requests.cpu=500m')), { verb: 'create', kind: 'Pod', namespace: 'team' });
  assert.match(e.message, /refused to create Pods in namespace `team`: pods "api-1" is forbidden: exceeded quota: small/);
  assert.match(e.hint ?? '', /ResourceQuota/);
});

test('a client-node ApiException: its message (with headers) is never used', () => {
  const apiException = Object.assign(new Error('HTTP-Code: 404\nMessage: Unknown API Status Code!\nBody: {}\nHeaders: {"authorization":"Bearer secret-token"}'), {
    code: 404, body: status(404, 'deployments.apps "api" not found'), headers: { authorization: 'Bearer secret-token' },
  });
  const e = toKubeError(apiException, { verb: 'get', kind: 'Deployment', namespace: 'team', name: 'api' });
  assert.equal(e.code, 'NH_KUBE_NOT_FOUND');
  assert.doesNotMatch(`${e.message} ${e.hint}`, /secret-token|Headers/);
});

test('network failures: unreachable, with the cause code', () => {
  const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6443'), { code: 'ECONNREFUSED' });
  const e = toKubeError(refused, patchApi);
  assert.equal(e.code, 'NH_KUBE_UNREACHABLE');
  assert.match(e.message, /cannot reach the Kubernetes API server \(ECONNREFUSED\)/);
  assert.match(e.hint ?? '', /is the cluster up/);
  // A certificate the kubeconfig's CA does not vouch for is not a cluster that is down.
  const untrusted = toKubeError(Object.assign(new Error('self-signed certificate'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }), patchApi);
  assert.equal(untrusted.code, 'NH_KUBE_UNREACHABLE');
  assert.match(untrusted.message, /its certificate is not trusted \(DEPTH_ZERO_SELF_SIGNED_CERT\)/);
  assert.match(untrusted.hint ?? '', /certificate-authority/);
});

test('other statuses map to stable codes', () => {
  const cases: [number, string][] = [[401, 'NH_KUBE_UNAUTHORIZED'], [409, 'NH_KUBE_CONFLICT'], [422, 'NH_KUBE_INVALID'], [500, 'NH_KUBE_ERROR']];
  for (const [code, expected] of cases) assert.equal(toKubeError(new HttpStatusFailure(code, status(code, 'x')), patchApi).code, expected);
});
