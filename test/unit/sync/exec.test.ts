import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execUrl, exitCodeOf } from '../../../src/kube/exec.js';

test('exec URL: wss, every command word, the container when named', () => {
  const url = new URL(execUrl('https://127.0.0.1:16443/', { namespace: 'ns 1', pod: 'api-0', container: 'dev' }, ['sh', '-c', 'echo a&b'], true));
  assert.equal(url.protocol, 'wss:');
  assert.equal(url.pathname, '/api/v1/namespaces/ns%201/pods/api-0/exec');
  assert.deepEqual(url.searchParams.getAll('command'), ['sh', '-c', 'echo a&b']);
  assert.equal(url.searchParams.get('container'), 'dev');
  assert.equal(url.searchParams.get('stdin'), 'true');
  assert.equal(url.searchParams.get('tty'), 'false');
  assert.equal(new URL(execUrl('http://localhost:8080', { namespace: 'n', pod: 'p', container: undefined }, ['ls'], false)).searchParams.has('container'), false);
});

test('exit codes from the channel-3 status', () => {
  assert.deepEqual(exitCodeOf({ status: 'Success' }), { exitCode: 0, message: undefined });
  assert.deepEqual(
    exitCodeOf({ status: 'Failure', reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: '3' }] } }),
    { exitCode: 3, message: undefined },
  );
  assert.deepEqual(exitCodeOf({ status: 'Failure', message: 'container not found ("dev")' }), { exitCode: -1, message: 'container not found ("dev")' });
});
