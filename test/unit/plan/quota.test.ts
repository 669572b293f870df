// The plan reads the namespace's quota: a dev pod that cannot fit is refused before anything changes, with
// the quota and the amounts named; one that fits once the original pods stop is not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../../src/model/kube-object.js';
import { parseQuantity } from '../../../src/model/quantity.js';
import { quotaExcess } from '../../../src/plan/quota.js';

const workload = (replicas: number, resources?: object): KubeObject => ({
  metadata: { name: 'api' }, spec: { replicas, template: { spec: { containers: [{ name: 'api', ...(resources ? { resources } : {}) }] } } },
});
const quota = (hard: Record<string, string>, used: Record<string, string>): KubeObject => ({ metadata: { name: 'nh-quota' }, spec: { hard }, status: { hard, used } });
const defaults: KubeObject = { metadata: { name: 'nh-defaults' }, spec: { limits: [{ type: 'Container', defaultRequest: { cpu: '100m', memory: '128Mi' }, default: { cpu: '500m', memory: '512Mi' } }] } };

test('quantities: decimal and binary suffixes, millicores, exponents; junk is undefined', () => {
  assert.deepEqual(['500m', '2', '1.5', '128Mi', '1G', '1e3', '0.5Gi'].map(parseQuantity), [0.5, 2, 1.5, 128 * 2 ** 20, 1e9, 1000, 2 ** 29]);
  assert.deepEqual(['', 'lots', '1MB', '-1'].map(parseQuantity), [undefined, undefined, undefined, undefined]);
});

test('a dev pod asking more memory than the quota has left is refused, naming the quota and the amounts', () => {
  const running = workload(1);
  const dev = workload(1, { requests: { memory: '1Gi' }, limits: { memory: '1Gi' } });
  const excess = quotaExcess([quota({ 'requests.memory': '512Mi', 'limits.memory': '2Gi' }, { 'requests.memory': '256Mi', 'limits.memory': '1Gi' })], [defaults], running, dev);
  assert.deepEqual([excess?.quota, excess?.resource], ['nh-quota', 'requests.memory']);
  assert.match(excess!.message, /requests\.memory would be 1152Mi of 512Mi \(the dev pod asks 1Gi, 128Mi is used by the rest of the namespace\)/);
});

test("the original pods' share counts as freed: three replicas of 128Mi make room for one dev pod of 384Mi", () => {
  const running = workload(3);
  const dev = workload(1, { requests: { memory: '384Mi' }, limits: { memory: '512Mi' } });
  assert.equal(quotaExcess([quota({ 'requests.memory': '384Mi' }, { 'requests.memory': '384Mi' })], [defaults], running, dev), undefined);
  assert.ok(quotaExcess([quota({ 'requests.memory': '383Mi' }, { 'requests.memory': '384Mi' })], [defaults], running, dev));
});

test('a request defaults to its limit, then to the LimitRange; no quota, no problem', () => {
  const dev = workload(1, { limits: { cpu: '2' } });
  const excess = quotaExcess([quota({ 'requests.cpu': '1' }, { 'requests.cpu': '100m' })], [defaults], workload(1), dev);
  assert.match(excess!.message, /requests\.cpu would be 2 of 1/);
  assert.equal(quotaExcess([], [defaults], workload(1), dev), undefined);
});
