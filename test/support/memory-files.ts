/** Config files held in memory, for loading tests that touch no disk. */
import type { ConfigFiles } from '../../src/config/load.js';

export function memoryFiles(files: Record<string, string | Uint8Array>): ConfigFiles {
  return {
    read(path) {
      const content = files[path];
      if (content === undefined) return { error: 'no such file' };
      return typeof content === 'string' ? new TextEncoder().encode(content) : content;
    },
    display: (path) => path.replace(/^\/work\//, ''),
  };
}
