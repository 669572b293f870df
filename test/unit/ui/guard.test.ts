import { test } from 'node:test';
import assert from 'node:assert/strict';
import { judgeRequest } from '../../../src/ui/guard.js';

const token = 'a-token-of-the-session';
const ok = { method: 'GET', host: '127.0.0.1:4000', origin: undefined, token };

test('a request to the loopback address with the token passes', () => {
  assert.deepEqual(judgeRequest(ok, 4000, token), { ok: true });
  assert.deepEqual(judgeRequest({ ...ok, host: 'localhost:4000', origin: 'http://localhost:4000', method: 'POST' }, 4000, token), { ok: true });
});

test('a foreign Host (DNS rebinding) is refused, also with the right token', () => {
  for (const host of ['evil.example:4000', '127.0.0.1:4001', '127.0.0.1', undefined]) {
    assert.deepEqual(judgeRequest({ ...ok, host }, 4000, token), { ok: false, status: 403, reason: 'foreign Host header' }, String(host));
  }
});

test('a foreign Origin (another site, CSRF) is refused', () => {
  for (const origin of ['http://evil.example', 'http://127.0.0.1:4001', 'https://127.0.0.1:4000', 'null']) {
    assert.equal(judgeRequest({ ...ok, origin }, 4000, token).ok, false, origin);
  }
});

test('a missing or wrong token is refused', () => {
  for (const given of [undefined, null, '', 'a-token-of-the-sessioN', `${token}x`]) {
    assert.deepEqual(judgeRequest({ ...ok, token: given }, 4000, token), { ok: false, status: 403, reason: 'missing or wrong token' });
  }
});
