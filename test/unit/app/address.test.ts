// dependLabelSelector.tcp/.http addresses: which Service and port they name, and the pod port behind it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAddress, targetPort } from '../../../src/forward/address-probe.js';

test('tcp and http addresses name a Service of the namespace', () => {
  assert.deepEqual(parseAddress('db:5432', 'tcp'), { service: 'db', port: 5432 });
  assert.deepEqual(parseAddress('db.team.svc.cluster.local:5432', 'tcp'), { service: 'db', port: 5432 });
  assert.deepEqual(parseAddress('http://api:8080/healthz?x=1', 'http'), { service: 'api', port: 8080, path: '/healthz?x=1' });
  assert.deepEqual(parseAddress('http://api/', 'http'), { service: 'api', port: 80, path: '/' });
  assert.equal(parseAddress('db', 'tcp'), undefined);
  assert.equal(parseAddress('https://api/', 'http'), undefined);
  assert.equal(parseAddress('not a url', 'http'), undefined);
});

test('the pod port behind a Service port: a number, or a named container port', () => {
  const service = { metadata: { name: 'api' }, spec: { ports: [{ port: 80, targetPort: 'http' }, { port: 81, targetPort: 9000 }, { port: 82 }] } };
  const pod = { metadata: { name: 'p' }, spec: { containers: [{ ports: [{ name: 'http', containerPort: 8080 }] }] } };
  assert.deepEqual([80, 81, 82, 83].map((p) => targetPort(service, p, pod)), [8080, 9000, 82, undefined]);
});
