import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startOrder, waitsFor } from '../../../src/devloop/order.js';

const booking = [
  { name: 'web', dependsOn: ['api', 'inventory'] },
  { name: 'api', dependsOn: ['inventory'] },
  { name: 'inventory', dependsOn: [] },
];

test('dependencies come first, otherwise the config order stays', () => {
  assert.deepEqual(startOrder(booking), ['inventory', 'api', 'web']);
  assert.deepEqual(startOrder([{ name: 'b', dependsOn: [] }, { name: 'a', dependsOn: [] }]), ['b', 'a']);
});

test('a service waits only for selected dependencies', () => {
  assert.deepEqual(waitsFor(booking).get('web'), ['api', 'inventory']);
  assert.deepEqual(waitsFor(booking.slice(0, 2)).get('web'), ['api']);
  assert.deepEqual(waitsFor([booking[0]!]).get('web'), []);
});

test('a cycle (rejected by validate) does not hang the ordering', () => {
  assert.deepEqual(startOrder([{ name: 'a', dependsOn: ['b'] }, { name: 'b', dependsOn: ['a'] }]).sort(), ['a', 'b']);
});
