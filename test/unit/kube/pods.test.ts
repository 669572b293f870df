// Choosing among a workload's pods: newest first, by creation time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../../src/model/kube-object.js';
import { newestFirst } from '../../../src/kube/pods.js';

const pod = (name: string, creationTimestamp?: string): KubeObject => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, ...(creationTimestamp ? { creationTimestamp } : {}) } });

test('pods sort newest first; a pod without a creation time comes last; equal times keep their order', () => {
  const pods = [pod('old', '2026-12-01T09:59:59Z'), pod('none'), pod('new', '2026-12-01T10:00:00Z'), pod('also-old', '2026-12-01T09:59:59Z'), pod('older-day', '2026-11-30T23:00:00Z')];
  assert.deepEqual([...pods].sort(newestFirst).map((p) => p.metadata.name), ['new', 'old', 'also-old', 'older-day', 'none']);
});
