#!/usr/bin/env node
// Builds nocalhost.schema.json and the TypeScript types of the raw config from the sources in schema/.
// `--check` builds both in memory and fails when the committed files differ (run by the unit tests).
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { Ajv } from 'ajv';
import standaloneCode from 'ajv/dist/standalone/index.js';
import { compile } from 'json-schema-to-typescript';
import { parse } from 'yaml';

const root = new URL('..', import.meta.url).pathname;
const schemaOut = join(root, 'nocalhost.schema.json');
const typesOut = join(root, 'src/config/raw-config.generated.ts');
const validatorsOut = join(root, 'src/config/validators.generated.ts');
/** The config forms validated at run time; their validators are compiled here so `nh validate` needs no ajv compile. */
const FORMS = ['service', 'appConfig', 'serviceV1', 'appConfigV1'];

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

// Same options as at run time would need: every error, with the failing schema (for "did you mean").
const ajv = new Ajv({ allErrors: true, verbose: true, allowUnionTypes: true, strict: true, code: { source: true, esm: true } });
ajv.addKeyword({ keyword: 'x-nh-unused', schemaType: 'string' });
ajv.addSchema(schema, 'nh');
const validators =
  '// @ts-nocheck\n/* Generated from schema/ by `npm run schema` (ajv standalone code). Do not edit. */\n' +
  standaloneCode(ajv, Object.fromEntries(FORMS.map((form) => [form, `nh#/$defs/${form}`]))) +
  '\n';

if (process.argv.includes('--check')) {
  const stale = [
    [schemaOut, schemaText],
    [typesOut, types],
    [validatorsOut, validators],
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
writeFileSync(validatorsOut, validators);
console.log(`wrote ${schemaOut}, ${typesOut} and ${validatorsOut}`);
