// nh's tar headers as the containers' tars read them: GNU tar and busybox tar list an archive holding a file of
// 8 GiB and more, then a small file after it (found only when the big file's size was read exactly). The archive
// is a sparse file: its header blocks are written, the file's content is a hole, so nothing large touches the disk.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { paddingOf, TAR_END, tarHeader } from '../../../src/sync/tar.js';

const GiB = 1024 ** 3;
const SIZES = [8 * GiB - 1, 8 * GiB, 8 * GiB + 1, 100 * GiB];

function sparseArchive(file: string, bigSize: number): void {
  const fd = openSync(file, 'w');
  try {
    const big = tarHeader({ path: 'big.bin', kind: 'file', mode: 0o644, size: bigSize, mtimeMs: 0 });
    writeSync(fd, big, 0, big.length, 0);
    const after = Buffer.concat([tarHeader({ path: 'after.txt', kind: 'file', mode: 0o644, size: 5, mtimeMs: 0 }), Buffer.from('hello'), Buffer.alloc(paddingOf(5)), TAR_END]);
    writeSync(fd, after, 0, after.length, big.length + bigSize + paddingOf(bigSize));
  } finally {
    closeSync(fd);
  }
}

/** `tar -tv` lines as [size, name]. */
function listing(command: string, args: string[]): Array<[number, string]> {
  const out = execFileSync(command, args, { encoding: 'utf8' });
  return out.trim().split('\n').map((line) => {
    const fields = line.trim().split(/\s+/);
    return [Number(fields[2]), fields[fields.length - 1]!];
  });
}

function eachSize(read: (archive: string) => Array<[number, string]>): void {
  const dir = mkdtempSync(join(tmpdir(), 'nh-tar-'));
  try {
    for (const size of SIZES) {
      const archive = join(dir, `${size}.tar`);
      sparseArchive(archive, size);
      assert.deepEqual(read(archive), [[size, 'big.bin'], [5, 'after.txt']], `a file of ${size} bytes`);
      rmSync(archive);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('GNU tar reads the sizes of files of 8 GiB and more', () => {
  eachSize((archive) => listing('tar', ['-tvf', archive]));
});

const hasBusybox = spawnSync('busybox', ['tar', '--help']).error === undefined;

test('busybox tar reads the sizes of files of 8 GiB and more', { skip: hasBusybox ? false : 'busybox is not installed here (the cluster set-up installs it)' }, () => {
  eachSize((archive) => listing('busybox', ['tar', '-tvf', archive]));
});
