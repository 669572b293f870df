// A reporter for Node's test runner beside TAP: when a run ends, it lists the longest test files' wall times (their
// hooks included), with the start of each relative to the run's, so that a slow file and the order the files ran
// in can be read from a CI log (scripts/run-tests.mjs); a failed file is always named.
import { relative } from 'node:path';

const LISTED = 15;

export default async function* fileTimes(source) {
  const started = new Map();
  const finished = [];
  const t0 = Date.now();
  for await (const event of source) {
    const { file, name, nesting } = event.data ?? {};
    // A file's own entry is the nesting-0 event named after the file; its tests' names differ.
    if (!file || nesting !== 0 || name !== file) continue;
    if (event.type === 'test:dequeue' && !started.has(file)) started.set(file, Date.now() - t0);
    if (event.type === 'test:complete') finished.push({ file, ms: event.data.details?.duration_ms ?? 0, failed: !event.data.details?.passed });
  }
  if (finished.length === 0) return;
  const seconds = (ms) => (ms / 1000).toFixed(1).padStart(6);
  const longest = finished.sort((a, b) => b.ms - a.ms);
  yield `# test files by wall time (s), with their start (s after the run's):\n`;
  for (const { file, ms, failed } of longest.slice(0, LISTED)) {
    yield `#   ${seconds(ms)}  from ${seconds(started.get(file) ?? 0)}  ${relative(process.cwd(), file)}${failed ? '  (failed)' : ''}\n`;
  }
  const rest = longest.slice(LISTED);
  if (rest.length > 0) yield `#   and ${rest.length} more of ${seconds(rest[0].ms).trim()} s or less\n`;
  for (const { file } of rest.filter((f) => f.failed)) yield `#   failed: ${relative(process.cwd(), file)}\n`;
}
