// Internal errors' stacks, mapped from a bundle back to its sources through a real esbuild source map.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { mapStackTrace } from '../../../src/cli/stack-trace.js';

const SOURCE = ['export function fail(): never {', '  const reason = "boom";', '  throw new Error(reason);', '}', ''].join('\n');

async function bundled(dir: string): Promise<{ file: string; line: number; column: number }> {
  writeFileSync(join(dir, 'fail.ts'), SOURCE);
  const file = join(dir, 'out', 'fail.js');
  await build({ entryPoints: [join(dir, 'fail.ts')], outfile: file, bundle: true, format: 'esm', sourcemap: true, sourcesContent: false, logLevel: 'silent' });
  const lines = readFileSync(file, 'utf8').split('\n');
  const index = lines.findIndex((l) => l.includes('throw new Error'));
  return { file, line: index + 1, column: lines[index]!.indexOf('throw') + 1 };
}

const read = (path: string) => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
};

test('a bundle location becomes the source file, line and column; other frames stay as they are', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nh-stack-'));
  try {
    const { file, line, column } = await bundled(dir);
    const stack = [
      'Error: boom',
      `    at fail (${pathToFileURL(file).href}:${line}:${column})`,
      `    at run (${file}:${line}:${column})`,
      '    at node:internal/process/task_queues:95:5',
      '    at other (/nowhere/plain.js:3:4)',
    ].join('\n');
    const mapped = mapStackTrace(stack, read).split('\n');
    assert.equal(mapped[1], `    at fail (${join(dir, 'fail.ts')}:3:3)`);
    assert.equal(mapped[2], `    at run (${join(dir, 'fail.ts')}:3:3)`);
    assert.equal(mapped[3], '    at node:internal/process/task_queues:95:5');
    assert.equal(mapped[4], '    at other (/nowhere/plain.js:3:4)');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a map that does not parse leaves the stack unchanged', () => {
  const stack = 'Error: x\n    at f (/somewhere/a.js:1:1)';
  assert.equal(mapStackTrace(stack, () => '{ not json'), stack);
});
