import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../../support/paths.js';

test('nocalhost.schema.json and the generated types are up to date with schema/', () => {
  // Exits non-zero, naming the stale file, when either differs from a fresh build.
  execFileSync(process.execPath, [join(repoRoot, 'scripts/build-schema.mjs'), '--check'], { stdio: 'pipe' });
});

interface Node {
  properties?: Record<string, Node>;
  items?: Node;
  $ref?: string;
  description?: string;
  examples?: unknown[];
  enum?: unknown[];
}

test('every property in the schema has a description and examples, for editor hover and completion', () => {
  const schema = JSON.parse(readFileSync(join(repoRoot, 'nocalhost.schema.json'), 'utf8')) as { $defs: Record<string, Node> };
  const missing: string[] = [];
  const visit = (node: Node | undefined, at: string) => {
    if (!node) return;
    for (const [key, child] of Object.entries(node.properties ?? {})) {
      const target = child.$ref ? schema.$defs[child.$ref.replace('#/$defs/', '')] : child;
      if (!(child.description ?? target?.description)) missing.push(`${at}.${key}: description`);
      const items = target?.items?.$ref ? schema.$defs[target.items.$ref.replace('#/$defs/', '')] : target?.items;
      const leaf = !target?.properties && !items?.properties;
      if (leaf && !(child.examples ?? target?.examples ?? target?.enum)) missing.push(`${at}.${key}: examples`);
      if (!child.$ref) visit(child, `${at}.${key}`);
    }
    if (node.items && !node.items.$ref) visit(node.items, `${at}[]`);
  };
  for (const [name, def] of Object.entries(schema.$defs)) visit(def, name);
  assert.deepEqual(missing, []);
});
