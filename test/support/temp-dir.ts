import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const made: string[] = [];

/**
 * A new directory in the system's temp dir, removed when the process exits, so that test runs do not pile up
 * directories there. A run that fails (a non-zero exit code) keeps them, for a look at what its tests left.
 */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  if (made.push(dir) === 1) {
    process.once('exit', (code) => {
      if (code === 0) for (const path of made) rmSync(path, { recursive: true, force: true });
    });
  }
  return dir;
}
