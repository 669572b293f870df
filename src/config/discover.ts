/** Finds `.nocalhost/config.yaml` (or `.yml`) from a directory upward, as git finds `.git`. */
import { dirname, join } from 'node:path';

export const CONFIG_NAMES = ['.nocalhost/config.yaml', '.nocalhost/config.yml'] as const;

export function findConfig(start: string, exists: (path: string) => boolean): string | undefined {
  for (let dir = start; ; dir = dirname(dir)) {
    for (const name of CONFIG_NAMES) {
      const candidate = join(dir, name);
      if (exists(candidate)) return candidate;
    }
    if (dirname(dir) === dir) return undefined;
  }
}
