import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findCycles, globProblem, isQuantity, objectNameProblem } from '../../../src/config/rules.js';
import { parsePortForward } from '../../../src/config/ports.js';
import { closest } from '../../../src/config/suggest.js';

test('findCycles returns each cycle once, as a closed path', () => {
  assert.deepEqual(findCycles([['a', ['b']], ['b', ['c']], ['c', ['a']], ['d', ['a']]]), [['a', 'b', 'c', 'a']]);
  assert.deepEqual(findCycles([['a', ['b']], ['b', []]]), []);
  assert.equal(findCycles([['a', ['b']], ['b', ['a']], ['c', ['d']], ['d', ['c']]]).length, 2);
});

test('Kubernetes quantities', () => {
  for (const ok of ['1', '500m', '0.5', '2Gi', '512Mi', '1e3', '100k', 2]) assert.ok(isQuantity(ok), String(ok));
  for (const bad of ['2GB', 'two', '-1', '1.5.2', '', 'Mi', -1]) assert.ok(!isQuantity(bad), String(bad));
});

test('port forwards', () => {
  assert.deepEqual(parsePortForward('18080:8080'), { local: 18080, remote: 8080 });
  assert.deepEqual(parsePortForward(9229), { local: 9229, remote: 9229 });
  for (const bad of ['a:1', '1:2:3', '0:80', '80:70000', '', ':80']) assert.ok('error' in parsePortForward(bad), bad);
});

test('globs', () => {
  for (const ok of ['src/**', '*.js', '.', '**/node_modules', '{a,b}/*.ts', '/build']) assert.equal(globProblem(ok), undefined, ok);
  for (const bad of ['src/[abc', '../x', 'a/../../b', '  ']) assert.ok(globProblem(bad), bad);
});

test('did you mean', () => {
  assert.equal(closest('imag', ['image', 'shell']), 'image');
  assert.equal(closest('contaners', ['containers', 'name']), 'containers');
  assert.equal(closest('always', ['Always', 'Never']), 'Always');
  assert.equal(closest('zzz', ['image', 'shell']), undefined);
});

test('object names: workloads are DNS-1123 subdomains, containers and apps DNS-1123 labels, each with a name that works', () => {
  for (const ok of ['api', 'booking-api', 'a.b-c', 'x1', 'a'.repeat(253)]) assert.equal(objectNameProblem(ok, 'subdomain'), undefined, ok);
  for (const ok of ['api', 'api-2', 'a'.repeat(63)]) assert.equal(objectNameProblem(ok, 'label'), undefined, ok);
  assert.equal(objectNameProblem('Booking_API', 'subdomain')?.hint, 'did you mean `booking-api`?');
  assert.equal(objectNameProblem('-api.', 'subdomain')?.hint, 'did you mean `api`?');
  assert.equal(objectNameProblem('api.v2', 'label')?.hint, 'did you mean `api-v2`?');
  assert.equal(objectNameProblem('a'.repeat(64), 'label')?.message, 'is longer than 63 characters');
  assert.equal(objectNameProblem('a'.repeat(64), 'label')?.hint, `did you mean \`${'a'.repeat(60)}… (63 characters)\`?`);
  assert.equal(objectNameProblem('a..b', 'subdomain')?.hint, 'did you mean `a.b`?');
  assert.equal(objectNameProblem('_', 'label')?.hint, 'use lower-case letters, digits and `-` only');
});
