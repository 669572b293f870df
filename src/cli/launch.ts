/**
 * Starts the bundled CLI (dist/nh/cli/main.js, one CommonJS file) with a V8 code cache, as Node 22's
 * module.enableCompileCache() would: Node 20 has none, and compiling nh's code on every start cost ≈ 35–50 ms
 * of CPU per command (BENCHMARKS.md, "nh's fixed cost per start"). The cache holds the bytecode of what a
 * command ran; one file per command and bundle build, in the user's cache directory, written after the first
 * run of that command (and again when V8 rejects it: another Node version). A cache that cannot be read or
 * written only costs the compile; it never stops nh.
 */
import { lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Script } from 'node:vm';

/** The bundle's one entry point (src/cli/main.ts). */
type Main = (argv: readonly string[]) => Promise<number>;

/**
 * Node's CommonJS wrapper plus `nhImport`: the build (scripts/build-cli.mjs) writes the bundle's import() of
 * packages left out of it as nhImport(), since import() inside a vm.Script needs an experimental flag on Node 20.
 * On the source's first line, so line numbers stay those of the bundle and its source map.
 */
const WRAPPER = '(function (exports, require, module, __filename, __dirname, nhImport) {';

export async function launch(bundleUrl: URL, argv: readonly string[], env: Readonly<Record<string, string | undefined>>): Promise<number> {
  const bundle = fileURLToPath(bundleUrl);
  // esbuild writes ASCII only (the build checks it), and latin1 reads ASCII as it is without UTF-8 decoding:
  // ≈ 5–9 ms less per start on this machine for the 1.5 MB bundle.
  const source = readFileSync(bundle, 'latin1');
  const cache = cacheOf(bundle, argv, env);
  const cachedData = cache?.read();
  const script = new Script(`${WRAPPER}${source}\n})`, { filename: bundle, cachedData });
  const module = { exports: {} as { main: Main } };
  const wrapped = script.runInThisContext() as (...args: unknown[]) => void;
  wrapped(module.exports, createRequire(bundle), module, bundle, dirname(bundle), (specifier: string) => import(specifier));
  const code = await module.exports.main(argv);
  if (cache && (cachedData === undefined || script.cachedDataRejected)) cache.write(script.createCachedData());
  return code;
}

interface CacheFile {
  read(): Buffer | undefined;
  write(data: Buffer): void;
}

/**
 * The cache file of this bundle build (its size and mtime) and command (the first word that looks like one),
 * in $XDG_CACHE_HOME/nh/v8 (default ~/.cache/nh/v8), a directory only this user may write: V8 trusts what it
 * loads from there. Undefined when there is no such directory and it cannot be made.
 */
export function cacheOf(bundle: string, argv: readonly string[], env: Readonly<Record<string, string | undefined>>): CacheFile | undefined {
  try {
    const dir = join(env['XDG_CACHE_HOME'] || join(homedir(), '.cache'), 'nh', 'v8');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const own = lstatSync(dir);
    if (!own.isDirectory() || (process.getuid && own.uid !== process.getuid()) || (own.mode & 0o022) !== 0) return undefined;
    const { size, mtimeMs } = statSync(bundle);
    const build = `${size}-${Math.trunc(mtimeMs)}`;
    const file = join(dir, `${build}-${argv.find((a) => /^[a-z]{2,12}$/.test(a)) ?? 'nh'}.bin`);
    return {
      read: () => {
        try {
          return readFileSync(file);
        } catch {
          return undefined;
        }
      },
      write: (data) => {
        try {
          dropOldBuilds(dir, build);
          // Whole or not at all: another nh may be reading it.
          const partial = `${file}.${process.pid}`;
          writeFileSync(partial, data, { mode: 0o600 });
          renameSync(partial, file);
        } catch {
          // A cache is an optimisation: a full disk or a read-only home costs the next start its compile only.
        }
      },
    };
  } catch {
    return undefined;
  }
}

/** Builds whose caches are kept: this one and the last few written, so two installed versions used in turn both keep theirs. */
const KEPT_BUILDS = 4;

/** Removes the cache files of all but the KEPT_BUILDS most recently written builds (this one always stays). */
function dropOldBuilds(dir: string, current: string): void {
  const latest = new Map<string, number>();
  for (const name of readdirSync(dir)) {
    const build = /^(\d+-\d+)-/.exec(name)?.[1];
    if (build && build !== current) latest.set(build, Math.max(latest.get(build) ?? 0, statSync(join(dir, name)).mtimeMs));
  }
  const dropped = new Set([...latest].sort((a, b) => b[1] - a[1]).slice(KEPT_BUILDS - 1).map(([build]) => build));
  for (const name of readdirSync(dir)) if (dropped.has(/^(\d+-\d+)-/.exec(name)?.[1] ?? '')) rmSync(join(dir, name), { force: true });
}
