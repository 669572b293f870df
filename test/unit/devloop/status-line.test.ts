import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderStatusLine, truncate, type ServiceStatus } from '../../../src/devloop/status-line.js';
import { LineSplitter } from '../../../src/devloop/lines.js';

const plain = { red: (s: string) => s, yellow: (s: string) => s, green: (s: string) => s, dim: (s: string) => s };
const services: ServiceStatus[] = [
  { name: 'web', sync: 'synced', process: { kind: 'waiting-for', services: ['api'] }, forwards: [{ local: 18080, state: { kind: 'app-not-listening', pod: 'p' } }] },
  { name: 'api', sync: 'synced', process: { kind: 'running', pod: 'p' }, forwards: [{ local: 18081, state: { kind: 'ok', pod: 'p' } }] },
  { name: 'inv', sync: 'no pod', process: { kind: 'crashed', exitCode: 2, message: undefined }, forwards: [{ local: 18082, state: { kind: 'tunnel-down', pod: undefined, message: 'x' } }] },
];

test('one segment per service: process, sync when not synced, forwards', () => {
  assert.equal(
    renderStatusLine(services, plain, 200),
    '○ web waiting for api :18080 app not listening  ● api running :18081  ✖ inv crashed (exit 2) [no pod] :18082 tunnel down',
  );
});

test('cut to the terminal width, escape sequences kept whole', () => {
  assert.equal(truncate('abcdefghij', 5), 'abcd…');
  assert.equal(truncate('abc', 5), 'abc');
  const colored = truncate('\u001b[32mabcdefghij\u001b[39m', 5);
  assert.equal(colored, '\u001b[32mabcd…\u001b[0m');
});

test('lines split across chunks and multi-byte characters come out whole', () => {
  const splitter = new LineSplitter();
  const bytes = Buffer.from('héllo\nwor');
  assert.deepEqual(splitter.push(bytes.subarray(0, 2)), []);
  assert.deepEqual(splitter.push(bytes.subarray(2)), ['héllo']);
  assert.deepEqual(splitter.push(Buffer.from('ld\r\n')), ['world']);
  assert.deepEqual(splitter.push(Buffer.from('tail')), []);
  assert.deepEqual(splitter.flush(), ['tail']);
});
