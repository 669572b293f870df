import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { PodTracker } from '../../../src/kube/pod-tracker.js';
import { PortInUseError, startPortForward } from '../../../src/forward/port-forward.js';

test('a local port already in use fails with the port and the process holding it', async () => {
  const holder = createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  const port = (holder.address() as { port: number }).port;
  const abort = new AbortController();
  // Listening fails before the pod or the API server is ever asked.
  const pods = { current: () => undefined, onChange: () => () => undefined, namespace: 'ns' } as unknown as PodTracker;
  const endpoint = { server: 'https://127.0.0.1:1', applyToHTTPSOptions: async () => undefined };
  try {
    await assert.rejects(startPortForward({ endpoint, pods, local: port, remote: 8080, signal: abort.signal }), (error: unknown) => {
      assert.ok(error instanceof PortInUseError);
      assert.equal(error.code, 'NH_PORT_IN_USE');
      assert.equal(error.holder?.pid, process.pid);
      assert.match(error.message, new RegExp(`local port ${port} is already in use by .*node.* \\(pid ${process.pid}\\)`));
      assert.match(error.hint ?? '', new RegExp(`kill ${process.pid}`));
      return true;
    });
  } finally {
    abort.abort();
    holder.close();
  }
});
