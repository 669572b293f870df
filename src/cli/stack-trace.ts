/**
 * Stack traces of internal errors, mapped from the bundle (dist/nh) back to src/ through its source maps.
 * Done here, when an internal error is reported, rather than with Node's --enable-source-maps: turning
 * that on reads and parses every loaded chunk's map at start (≈ 10–30 ms on every run).
 */
import { SourceMap } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** A frame's location: `file:///…/x.js:12:5` or `/…/x.js:12:5`. */
const LOCATION = /((?:file:\/\/)?\/[^\s():]+\.js):(\d+):(\d+)/g;

/**
 * The stack with every location that has a source map (`<file>.map` beside it, read by `readMap`) replaced by
 * the original file, line and column; locations without one are left as they are.
 */
export function mapStackTrace(stack: string, readMap: (path: string) => string | undefined): string {
  const maps = new Map<string, SourceMap | undefined>();
  const mapOf = (file: string) => {
    if (!maps.has(file)) maps.set(file, parseMap(readMap(`${file}.map`)));
    return maps.get(file);
  };
  return stack.replace(LOCATION, (location: string, where: string, line: string, column: string) => {
    const file = where.startsWith('file://') ? fileURLToPath(where) : where;
    const entry = mapOf(file)?.findEntry(Number(line) - 1, Number(column) - 1);
    if (!entry || !('originalSource' in entry)) return location;
    return `${resolve(dirname(file), entry.originalSource)}:${entry.originalLine + 1}:${entry.originalColumn + 1}`;
  });
}

function parseMap(text: string | undefined): SourceMap | undefined {
  if (text === undefined) return undefined;
  try {
    return new SourceMap(JSON.parse(text) as ConstructorParameters<typeof SourceMap>[0]);
  } catch {
    return undefined;
  }
}
