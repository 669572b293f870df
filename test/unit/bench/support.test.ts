import { test } from 'node:test';
import assert from 'node:assert/strict';
import { median, percentile, summary } from '../../../bench/support.js';

test('the median of an odd count is the middle sample, whatever the order', () => {
  assert.equal(median([30, 10, 20]), 20);
  assert.equal(median([5]), 5);
});

test('the median of an even count is the mean of the two middle samples, not the lower one', () => {
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.equal(summary([100, 300]).p50, 200);
});

test('percentiles interpolate between the closest ranks', () => {
  const oneToTwenty = Array.from({ length: 20 }, (_, i) => i + 1);
  assert.equal(percentile(oneToTwenty, 0), 1);
  assert.equal(percentile(oneToTwenty, 100), 20);
  assert.ok(Math.abs(percentile(oneToTwenty, 95) - 19.05) < 1e-9);
});

test('no samples is an error, never a figure', () => {
  assert.throws(() => median([]), RangeError);
  assert.throws(() => summary([]), RangeError);
  assert.throws(() => percentile([1], 101), RangeError);
});
