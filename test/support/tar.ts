/** An in-memory tar of small files, as arguments for SyncAgent.put(): to change a container behind nh's back. */
import { paddingOf, TAR_END, tarHeader } from '../../src/sync/tar.js';

export function tarOf(files: Record<string, string>): [number, Uint8Array[]] {
  const parts: Uint8Array[] = [];
  for (const [path, content] of Object.entries(files)) {
    const data = new TextEncoder().encode(content);
    parts.push(tarHeader({ path, kind: 'file', mode: 0o644, size: data.length, mtimeMs: Date.now() }), data, new Uint8Array(paddingOf(data.length)));
  }
  parts.push(TAR_END);
  return [parts.reduce((n, p) => n + p.length, 0), parts];
}
