import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { findPortHolder, listeningInodes } from '../../../src/forward/port-holder.js';
import { classifyErrorText, portForwardUrl } from '../../../src/forward/tunnel.js';

const TABLE = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:46A0 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1234 1 0000000000000000 100 0 0 10 0
   1: 0100007F:46A0 0100007F:9C40 01 00000000:00000000 00:00000000 00000000     0        0 5678 1 0000000000000000 20 4 30 10 -1
   2: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 999 1 0000000000000000 100 0 0 10 0
`;

test('listening sockets of a port are found by inode; connected ones are not', () => {
  assert.deepEqual(listeningInodes(TABLE, 18080), ['1234']);
  assert.deepEqual(listeningInodes(TABLE, 8080), ['999']);
  assert.deepEqual(listeningInodes(TABLE, 1), []);
});

test('the process holding a local port is named (this test process)', async () => {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const holder = findPortHolder(port);
  server.close();
  assert.equal(holder?.pid, process.pid);
  assert.match(holder?.command ?? '', /node/);
});

test('the kubelet error text tells a refused port from a broken tunnel', () => {
  const refused = 'error forwarding port 9999 to pod abc, uid : failed to execute portforward in network namespace "/var/run/netns/cni-1": failed to connect to localhost:9999 inside namespace "abc", IPv4: dial tcp4 127.0.0.1:9999: connect: connection refused IPv6 dial tcp6: address localhost: no suitable address found';
  assert.equal(classifyErrorText(refused).kind, 'refused');
  assert.deepEqual(classifyErrorText('error forwarding port 80: container not running\nmore'), { kind: 'tunnel', message: 'error forwarding port 80: container not running' });
});

test('the port-forward URL is the pod subresource on the WebSocket scheme', () => {
  assert.equal(portForwardUrl('https://127.0.0.1:16443/', { namespace: 'n s', pod: 'p', port: 80 }), 'wss://127.0.0.1:16443/api/v1/namespaces/n%20s/pods/p/portforward?ports=80');
});
