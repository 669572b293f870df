// A reporter for Node's test runner beside TAP: when a run ends, it lists each test file's wall time (its hooks
// included), longest first, with the start of each relative to the run's, so that a slow file and the order the
// files ran in can be read from a CI log (scripts/run-tests.mjs).
import { relative } from 'node:path';

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
  yield `# test files by wall time (s), with their start (s after the run's):\n`;
  for (const { file, ms, failed } of finished.sort((a, b) => b.ms - a.ms)) {
    yield `#   ${seconds(ms)}  from ${seconds(started.get(file) ?? 0)}  ${relative(process.cwd(), file)}${failed ? '  (failed)' : ''}\n`;
  }
}
