/**
 * What a service runs and what it builds first (pure). A configured `command.build` runs before each start;
 * without one, a `go run [flags] PACKAGE [args]` is split into `go build [flags] -o BIN PACKAGE` and `BIN
 * [args]`, so the old process keeps serving while the new binary compiles and the swap costs only the
 * binary's start. Compiler messages name files relative to workDir (or under it): mapToLocal points them
 * at the synced local files, so an editor or terminal can open them.
 */
import { posix } from 'node:path';

export interface RunSteps {
  readonly run: readonly string[];
  readonly build: readonly string[] | undefined;
}

/** `go run`/`go build` flags that take the next word as their value when written without `=`. */
const GO_VALUE_FLAGS = new Set(['-tags', '-ldflags', '-gcflags', '-asmflags', '-mod', '-modfile', '-overlay', '-pkgdir', '-p', '-pgo', '-buildmode', '-compiler', '-C', '-covermode', '-coverpkg', '-buildvcs']);

export function binaryOf(service: string): string {
  return `/tmp/.nh-bin-${service.replace(/[^A-Za-z0-9_.-]/g, '_')}`;
}

export function runSteps(service: string, run: readonly string[], build: readonly string[] | undefined): RunSteps {
  if (build?.length) return { run, build };
  const split = splitGoRun(run, binaryOf(service));
  return split ?? { run, build: undefined };
}

/** `go run …` as a build and a run of the binary; undefined for anything else (`-exec` too: it runs the binary its own way). */
export function splitGoRun(command: readonly string[], binary: string): RunSteps | undefined {
  if (command[0] !== 'go' || command[1] !== 'run') return undefined;
  const flags: string[] = [];
  let at = 2;
  while (at < command.length && command[at]!.startsWith('-')) {
    const flag = command[at]!;
    if (flag === '-exec' || flag.startsWith('-exec=') || flag === '-o' || flag.startsWith('-o=')) return undefined;
    flags.push(flag);
    if (GO_VALUE_FLAGS.has(flag)) {
      if (at + 1 >= command.length) return undefined;
      flags.push(command[at + 1]!);
      at++;
    }
    at++;
  }
  const packages: string[] = [];
  if (command[at]?.endsWith('.go')) {
    while (command[at]?.endsWith('.go')) packages.push(command[at++]!);
  } else if (command[at] !== undefined) {
    packages.push(command[at++]!);
  } else {
    return undefined;
  }
  return { build: ['go', 'build', ...flags, '-o', binary, ...packages], run: [binary, ...command.slice(at)] };
}

/**
 * Rewrites `file:line[:col]` references in a compiler's output from the container's paths (relative to
 * workDir, or absolute under it) to the local files they were synced from.
 */
export function mapToLocal(output: string, workDir: string, localRoot: string): string {
  const root = workDir.replace(/\/+$/, '');
  return output.replace(/(^|[\s(])((?:\.\.?\/|\/)?(?:[\w.@+-]+\/)*[\w@+-][\w.@+-]*\.[A-Za-z0-9]+)(?=:\d+)/gm, (whole, before: string, path: string) => {
    const inContainer = path.startsWith('/') ? path : posix.join(root, path);
    if (inContainer !== root && !inContainer.startsWith(`${root}/`)) return whole;
    return `${before}${posix.join(localRoot, inContainer.slice(root.length + 1))}`;
  });
}
