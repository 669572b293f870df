#!/usr/bin/env node
// Builds the session's page (src/ui/page) into dist/ui: type-checks it, bundles it with esbuild (Preact,
// @tanstack/virtual-core and the page's own code in one minified file), copies the HTML and CSS, and writes
// a gzipped copy of each asset for the server. Prints the gzipped total, which must stay under 300 KB.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const root = new URL('..', import.meta.url).pathname;
const source = join(root, 'src/ui/page');
const out = join(root, 'dist/ui');
const BUDGET = 300 * 1024;

try {
  execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(source, 'tsconfig.json')], { stdio: 'inherit' });
} catch {
  process.exit(1); // tsc printed the errors
}
mkdirSync(out, { recursive: true });
await build({
  entryPoints: [join(source, 'main.tsx')],
  outfile: join(out, 'app.js'),
  bundle: true,
  minify: true,
  format: 'esm',
  target: 'es2022',
  jsx: 'automatic',
  jsxImportSource: 'preact',
  legalComments: 'none',
  logLevel: 'warning',
});
copyFileSync(join(source, 'index.html'), join(out, 'index.html'));
copyFileSync(join(source, 'app.css'), join(out, 'app.css'));
let total = 0;
for (const name of ['index.html', 'app.js', 'app.css']) {
  const gzipped = gzipSync(readFileSync(join(out, name)), { level: 9 });
  if (name !== 'index.html') writeFileSync(join(out, `${name}.gz`), gzipped);
  total += gzipped.length;
}
if (total > BUDGET) {
  console.error(`the page weighs ${(total / 1024).toFixed(1)} KB gzipped, over its ${BUDGET / 1024} KB budget`);
  process.exit(1);
}
if (process.env.NH_UI_BUILD_VERBOSE) console.log(`page: ${(total / 1024).toFixed(1)} KB gzipped`);
