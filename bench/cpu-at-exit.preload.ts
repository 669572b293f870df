/**
 * Preloaded (`node --import`) by startup.bench.ts into each process it times: at exit, writes the CPU time the
 * process used (user + system, all its threads) as one last stderr line, `cpu-ms N`. CPU time, unlike wall
 * time, hardly moves with the load of the shared machine.
 */
import { writeSync } from 'node:fs';

process.on('exit', () => {
  const { user, system } = process.cpuUsage();
  writeSync(2, `\ncpu-ms ${((user + system) / 1000).toFixed(1)}\n`);
});
