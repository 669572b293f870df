#!/usr/bin/env node
// Bundles the CLI (src/cli/main.ts and everything it loads, dependencies included) with esbuild into one
// CommonJS file, dist/nh/cli/main.js, and its launcher (src/cli/launch.ts) into dist/nh/launch.cjs: bin/nh.js
// runs the launcher, which compiles the bundle with a V8 code cache. Both bin/nh.js and the launcher are
// CommonJS, so no start initialises Node's ES module loader. tsc's dist/src stays what the tests import.
// Why (BENCHMARKS.md, "nh's fixed cost per start"): resolving, reading and linking ~130 modules and ~40
// packages cost each start ≈ 60–70 ms of CPU, compiling them ≈ 35–50 ms more; one file lets one cache hold
// the bytecode. Modules a command does not use are compiled from the cache but never run (esbuild keeps each
// dynamic import() a lazily initialised module). @kubernetes/client-node stays a package import: it is loaded
// only for exec-plugin kubeconfigs and would triple the bundle.
// The bundle sits at the same depth below the package root as dist/src/<dir>/, so the URLs the code builds
// from import.meta.url (../../../package.json, ../../../nocalhost.schema.json, ../../ui/) resolve alike.
import { Buffer } from 'node:buffer';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const outdir = join(root, 'dist/nh');
const bundle = join(outdir, 'cli/main.js');

const common = { bundle: true, platform: 'node', target: 'node20', logLevel: 'warning' };
const cli = await build({
  ...common,
  entryPoints: [join(root, 'src/cli/main.ts')],
  outfile: bundle,
  format: 'cjs',
  external: ['@kubernetes/client-node'],
  define: { 'import.meta.url': '__nhModuleUrl' },
  banner: { js: 'var __nhModuleUrl = require("node:url").pathToFileURL(__filename).href;' },
  // Every start reads the whole bundle and compiles it from the code cache: without its whitespace (names kept,
  // for stacks) it is 1.07 instead of 1.56 MB, ≈ 5–9 ms less per start (BENCHMARKS.md, issue 15, 2026-12-04).
  minifyWhitespace: true,
  minifySyntax: true,
  // Internal errors are reported with their stack mapped to src/ (src/cli/stack-trace.ts).
  sourcemap: true,
  sourcesContent: false,
  write: false,
});

// import() inside a vm.Script needs an experimental flag on Node 20: the launcher passes its own as nhImport.
const IMPORT = /\bimport\("/g;
for (const file of cli.outputFiles) {
  let text = file.text;
  if (file.path === bundle) {
    text = text.replace(IMPORT, 'nhImport("');
    if (/\bimport\s*\(/.test(text)) fail('the bundle has an import() of a computed specifier, which the launcher cannot serve');
    // The launcher reads the bundle as latin1 (no UTF-8 decoding at every start): esbuild escapes non-ASCII by default.
    // Any character beyond ASCII takes more than one byte in UTF-8.
    if (Buffer.byteLength(text, 'utf8') !== text.length) fail('the bundle has non-ASCII characters, which the launcher would read wrongly (esbuild charset must stay ascii)');
  }
  mkdirSync(join(file.path, '..'), { recursive: true });
  writeFileSync(file.path, text);
}

await build({ ...common, entryPoints: [join(root, 'src/cli/launch.ts')], outfile: join(outdir, 'launch.cjs'), format: 'cjs' });

for (const relative of ['../../../package.json', '../../../nocalhost.schema.json', '../../ui/']) {
  if (!existsSync(join(outdir, 'cli', relative))) fail(`${relative} does not resolve from dist/nh/cli; the bundle must sit where dist/src/<dir>/ does`);
}

function fail(message) {
  console.error(`build-cli: ${message}`);
  process.exit(1);
}
