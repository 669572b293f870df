// Loaded into nh by the fault tests (NODE_OPTIONS=--expose-gc --import=this file; nothing in nh is
// instrumented): on SIGUSR2 it collects all garbage and writes process.memoryUsage() to
// $NH_MEMORY_PROBE_FILE. After a full GC the heap and the Buffers are what nh holds, whenever V8 would
// have collected; RSS is then what malloc and V8 kept, without garbage waiting for a GC.
import { renameSync, writeFileSync } from 'node:fs';

const file = process.env['NH_MEMORY_PROBE_FILE'];
const gc = (globalThis as { gc?: () => void }).gc;
if (file && gc) {
  process.on('SIGUSR2', () => {
    // The second collection finishes the first one's sweeping, freeing the Buffers it found dead.
    gc();
    gc();
    writeFileSync(`${file}.tmp`, JSON.stringify(process.memoryUsage()));
    renameSync(`${file}.tmp`, file);
  });
}
