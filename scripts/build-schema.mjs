#!/usr/bin/env node
// Builds nocalhost.schema.json and the TypeScript types of the raw config from the sources in schema/.
// `--check` builds both in memory and fails when the committed files differ (run by the unit tests).
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { compile } from 'json-schema-to-typescript';
import { parse } from 'yaml';

const root = new URL('..', import.meta.url).pathname;
const schemaOut = join(root, 'nocalhost.schema.json');
const typesOut = join(root, 'src/config/raw-config.generated.ts');

function bundle() {
  const top = parse(readFileSync(join(root, 'schema/root.yaml'), 'utf8'));
  const dir = join(root, 'schema/definitions');
  const definitions = {};
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort()) {
    definitions[basename(file, '.yaml')] = parse(readFileSync(join(dir, file), 'utf8'));
  }
  return { ...top, $defs: definitions };
}

const schema = bundle();
const schemaText = JSON.stringify(schema, null, 2) + '\n';
// The root is a union (no object), so the generator would skip the v1 forms: list every form as a property
// of one wrapper type instead, so that each gets its named interface.
const forms = Object.fromEntries(['service', 'appConfig', 'serviceV1', 'appConfigV1'].map((name) => [name, { $ref: `#/$defs/${name}` }]));
const typeSource = { title: 'ConfigForms', type: 'object', additionalProperties: false, properties: forms, $defs: structuredClone(schema.$defs) };
const types = await compile(typeSource, 'ConfigForms', {
  bannerComment: '/* Generated from schema/ by `npm run schema`. Do not edit: edit schema/ and rebuild. */',
  additionalProperties: false,
  format: true,
  style: { singleQuote: true, printWidth: 120 },
});

if (process.argv.includes('--check')) {
  const stale = [
    [schemaOut, schemaText],
    [typesOut, types],
  ].filter(([path, text]) => {
    try {
      return readFileSync(path, 'utf8') !== text;
    } catch {
      return true;
    }
  });
  for (const [path] of stale) console.error(`${path} is out of date with schema/; run \`npm run schema\``);
  process.exit(stale.length ? 1 : 0);
}
writeFileSync(schemaOut, schemaText);
writeFileSync(typesOut, types);
console.log(`wrote ${schemaOut} and ${typesOut}`);
