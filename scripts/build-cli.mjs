#!/usr/bin/env node
// Bundles the CLI (src/cli/main.ts and everything it loads, dependencies included) into dist/nh/cli with
// esbuild: bin/nh.js loads this, not tsc's dist/src (which the tests import). One module graph of ~130 files
// and ~40 packages cost each `nh` start ≈ 60–70 ms of CPU in resolving, reading and linking (BENCHMARKS.md,
// "nh's fixed cost per start"); the bundle keeps each command's dynamic import() as its own chunk, so a
// command loads only what it uses (`nh validate` never the cluster client or listr2). @kubernetes/client-node
// stays a package import: it is loaded only for exec-plugin kubeconfigs and would triple the bundle.
// The chunks sit at the same depth below the package root as dist/src/<dir>/, so the URLs the code builds
// from import.meta.url (../../../package.json, ../../../nocalhost.schema.json, ../../ui/) resolve alike.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const outdir = join(root, 'dist/nh/cli');

await build({
  entryPoints: { main: join(root, 'src/cli/main.ts') },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  chunkNames: 'chunk-[hash]',
  external: ['@kubernetes/client-node'],
  // Internal errors are reported with their stack mapped to src/ (bin/nh.js turns source maps on).
  sourcemap: true,
  sourcesContent: false,
  // Bundled CommonJS dependencies (yaml, ws, listr2's) call require() for Node's built-ins.
  banner: { js: "import { createRequire as __nhCreateRequire } from 'node:module'; const require = __nhCreateRequire(import.meta.url);" },
  logLevel: 'warning',
});

for (const relative of ['../../../package.json', '../../../nocalhost.schema.json', '../../ui/']) {
  if (!existsSync(join(outdir, relative))) {
    console.error(`build-cli: ${relative} does not resolve from ${outdir}; the bundle must sit where dist/src/<dir>/ does`);
    process.exit(1);
  }
}
