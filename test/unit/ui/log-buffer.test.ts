import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LogBuffer } from '../../../src/ui/page/log-buffer.js';

function lines(buffer: LogBuffer): string[] {
  return Array.from({ length: buffer.size }, (_, i) => buffer.at(i)!.line);
}

test('the buffer keeps the newest lines and the filter follows new lines and trimming', () => {
  const buffer = new LogBuffer(10);
  for (let i = 0; i < 30; i++) buffer.append(i % 2 ? 'api' : 'web', 'stdout', `Line ${i}`);
  assert.ok(buffer.total >= 10 && buffer.total <= 11);
  assert.equal(buffer.at(buffer.size - 1)!.line, 'Line 29');
  buffer.setFilter({ service: 'api', text: '' });
  assert.ok(lines(buffer).every((l) => Number(l.split(' ')[1]) % 2 === 1));
  buffer.setFilter({ service: '', text: 'line 2' });
  assert.deepEqual(lines(buffer), ['Line 20', 'Line 21', 'Line 22', 'Line 23', 'Line 24', 'Line 25', 'Line 26', 'Line 27', 'Line 28', 'Line 29'].filter((l) => lines(buffer).includes(l)));
  for (let i = 30; i < 60; i++) buffer.append('api', 'stdout', i === 52 ? 'Line 2 again' : `x ${i}`);
  assert.deepEqual(lines(buffer), ['Line 2 again']);
  buffer.setFilter({ service: '', text: '' });
  assert.equal(buffer.size, buffer.total);
});
