import { test } from 'node:test';
import assert from 'node:assert/strict';
import { logPath, resumeTime, splitTimestamp } from '../../../src/logs/follow.js';

test('a timestamped log line splits into its time and its text', () => {
  assert.deepEqual(splitTimestamp('2026-11-30T05:04:13.123456789Z booking-api 1.0.0 listening on :8080'), {
    timestamp: '2026-11-30T05:04:13.123456789Z',
    text: 'booking-api 1.0.0 listening on :8080',
  });
  assert.deepEqual(splitTimestamp('2026-11-30T05:04:13Z'), { timestamp: '2026-11-30T05:04:13Z', text: '' });
  assert.deepEqual(splitTimestamp('no time here'), { timestamp: undefined, text: 'no time here' });
});

test('a resume starts at the whole second of the last line', () => {
  assert.equal(resumeTime('2026-11-30T05:04:13.123456789Z'), '2026-11-30T05:04:13Z');
});

test('the log request names the container and the resume point, nothing undefined', () => {
  assert.equal(
    logPath('ns', 'api-0', { container: 'app', timestamps: 'true', follow: 'true', sinceTime: '2026-11-30T05:04:13Z', tailLines: undefined }),
    '/api/v1/namespaces/ns/pods/api-0/log?container=app&timestamps=true&follow=true&sinceTime=2026-11-30T05%3A04%3A13Z',
  );
});
