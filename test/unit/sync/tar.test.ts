import { test } from 'node:test';
import assert from 'node:assert/strict';
import { archiveSize, BLOCK, paddingOf, paxRecord, tarHeader } from '../../../src/sync/tar.js';
import { tarNumber } from '../../support/tar.js';

const text = (block: Uint8Array, offset: number, length: number) => new TextDecoder().decode(block.subarray(offset, offset + length)).replace(/\0.*$/s, '');

function checksumOk(block: Uint8Array): boolean {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : block[i]!;
  return parseInt(text(block, 148, 8), 8) === sum;
}

test('a ustar header for a file: name, mode, size, mtime, checksum', () => {
  const h = tarHeader({ path: 'src/a b/ü.js', kind: 'file', mode: 0o755, size: 1234, mtimeMs: 1_700_000_000_999 });
  assert.equal(h.length, BLOCK);
  assert.equal(text(h, 0, 100), 'src/a b/ü.js');
  assert.equal(parseInt(text(h, 100, 8), 8), 0o755);
  assert.equal(parseInt(text(h, 124, 12), 8), 1234);
  assert.equal(parseInt(text(h, 136, 12), 8), 1_700_000_000);
  assert.equal(text(h, 156, 1), '0');
  assert.equal(text(h, 257, 6), 'ustar');
  assert.ok(checksumOk(h));
});

test('directories end in a slash; links carry their target', () => {
  const d = tarHeader({ path: 'src', kind: 'dir', mode: 0o755, size: 4096, mtimeMs: 0 });
  assert.equal(text(d, 0, 100), 'src/');
  assert.equal(text(d, 156, 1), '5');
  assert.equal(parseInt(text(d, 124, 12), 8), 0, 'a directory has no content');
  const l = tarHeader({ path: 'l', kind: 'link', mode: 0o777, size: 0, mtimeMs: 0, target: '../outside' });
  assert.equal(text(l, 156, 1), '2');
  assert.equal(text(l, 157, 100), '../outside');
});

test('long names use the ustar prefix, then a PAX header', () => {
  const mid = `${'d'.repeat(120)}/${'f'.repeat(90)}`;
  const split = tarHeader({ path: mid, kind: 'file', mode: 0o644, size: 0, mtimeMs: 0 });
  assert.equal(split.length, BLOCK);
  assert.equal(text(split, 345, 155), 'd'.repeat(120));
  assert.equal(text(split, 0, 100), 'f'.repeat(90));
  const long = 'x'.repeat(300);
  const pax = tarHeader({ path: long, kind: 'file', mode: 0o644, size: 7, mtimeMs: 0, target: undefined });
  assert.equal(pax.length, 3 * BLOCK);
  assert.equal(text(pax, 156, 1), 'x');
  assert.ok(checksumOk(pax.subarray(0, BLOCK)));
  assert.ok(new TextDecoder().decode(pax.subarray(BLOCK, 2 * BLOCK)).startsWith(paxRecord('path', long)));
  assert.ok(checksumOk(pax.subarray(2 * BLOCK)));
});

test('PAX record lengths count themselves', () => {
  assert.equal(paxRecord('path', 'a'), '9 path=a\n');
  const record = paxRecord('path', 'y'.repeat(95)); // crosses from 2 to 3 digits
  assert.equal(Number(record.split(' ')[0]), new TextEncoder().encode(record).length);
});

test('archive size: headers, padded contents, two end blocks', () => {
  assert.equal(paddingOf(0), 0);
  assert.equal(paddingOf(1), 511);
  assert.equal(paddingOf(512), 0);
  assert.equal(archiveSize([]), 1024);
  assert.equal(archiveSize([{ path: 'a', kind: 'file', mode: 0o644, size: 513, mtimeMs: 0 }]), 512 + 1024 + 1024);
});

test('sizes from 8 GiB up: GNU base-256 in the size field (octal has 11 digits), which GNU tar and busybox tar both read', () => {
  const GiB = 1024 ** 3;
  const sizeField = (size: number) => {
    const h = tarHeader({ path: 'big.bin', kind: 'file', mode: 0o644, size, mtimeMs: 0 });
    assert.equal(h.length, BLOCK, 'still one header block');
    assert.ok(checksumOk(h));
    return [...h.subarray(124, 136)];
  };
  const octal = (digits: string) => [...new TextEncoder().encode(digits), 0];
  assert.deepEqual(sizeField(8 * GiB - 1), octal('77777777777'), 'the largest octal size');
  assert.deepEqual(sizeField(8 * GiB), [0x80, 0, 0, 0, 0, 0, 0, 0x02, 0, 0, 0, 0]);
  assert.deepEqual(sizeField(8 * GiB + 1), [0x80, 0, 0, 0, 0, 0, 0, 0x02, 0, 0, 0, 1]);
  assert.deepEqual(sizeField(100 * GiB), [0x80, 0, 0, 0, 0, 0, 0, 0x19, 0, 0, 0, 0]);
  assert.deepEqual(sizeField(2 ** 53 - 1), [0x80, 0, 0, 0, 0, 0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], 'the largest exact size');
  for (const size of [0, 8 * GiB - 1, 8 * GiB, 8 * GiB + 1, 100 * GiB]) {
    assert.equal(tarNumber(tarHeader({ path: 'f', kind: 'file', mode: 0o644, size, mtimeMs: 0 }).subarray(124, 136)), size);
  }
  assert.equal(archiveSize([{ path: 'big.bin', kind: 'file', mode: 0o644, size: 100 * GiB + 1, mtimeMs: 0 }]), BLOCK + 100 * GiB + BLOCK + 2 * BLOCK);
});

test('unsafe names never make a header', () => {
  for (const path of ['../x', '/etc/passwd', 'a/../../b', '']) {
    assert.throws(() => tarHeader({ path, kind: 'file', mode: 0o644, size: 0, mtimeMs: 0 }), /refusing/);
  }
});
