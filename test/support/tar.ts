/** A numeric header field as tar reads it: octal digits, or GNU base-256 when the first byte has its high bit set. */
export function tarNumber(field: Uint8Array): number {
  if ((field[0]! & 0x80) === 0) return parseInt(new TextDecoder().decode(field).replace(/\0.*$/s, ''), 8);
  return field.subarray(1).reduce((value, byte) => value * 256 + byte, field[0]! & 0x3f);
}

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
