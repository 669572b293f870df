/**
 * The JSON schema (nocalhost.schema.json, built from schema/) and structural validation with ajv.
 * The validators are compiled at build time (validators.generated.ts), so no ajv compile runs when a
 * user validates. ajv errors are converted here into located problems with a hint; nothing else sees them.
 */
import { createRequire } from 'node:module';
import type { ErrorObject, ValidateFunction } from 'ajv';
import * as compiled from './validators.generated.js';
import type { ConfigPath, Locator, PathSegment } from './yaml-document.js';
import type { Problem } from './problems.js';
import { closest } from './suggest.js';

export interface SchemaNode {
  readonly $ref?: string;
  readonly type?: string | readonly string[];
  readonly properties?: Readonly<Record<string, SchemaNode>>;
  readonly items?: SchemaNode;
  readonly anyOf?: readonly SchemaNode[];
  readonly enum?: readonly unknown[];
  readonly description?: string;
  readonly 'x-nh-unused'?: string;
}

interface SchemaDocument extends SchemaNode {
  readonly $defs: Readonly<Record<string, SchemaNode>>;
}

export type FormName = 'service' | 'appConfig' | 'serviceV1' | 'appConfigV1';

const VALIDATORS = compiled as unknown as Record<FormName, ValidateFunction>;

export class ConfigSchema {
  /** Every key the schema knows, with the places it is allowed, for "belongs under" hints. */
  private readonly keyHomes: Map<string, string[]>;

  constructor(readonly document: SchemaDocument) {
    this.keyHomes = collectKeyHomes(document);
  }

  /** Loads nocalhost.schema.json shipped at the package root. */
  static load(): ConfigSchema {
    const require = createRequire(import.meta.url);
    return new ConfigSchema(require('../../../nocalhost.schema.json') as SchemaDocument);
  }

  definition(name: string): SchemaNode | undefined {
    return this.document.$defs[name];
  }

  resolve(node: SchemaNode): SchemaNode {
    const name = node.$ref?.replace('#/$defs/', '');
    return name ? { ...this.definition(name), ...withoutRef(node) } : node;
  }

  /**
   * Validates `value` (found at `base` in the document) as one of the config forms. `invalidPaths` are the
   * values that broke the schema (relative to `value`), so later checks can run on the rest.
   */
  check(form: FormName, value: unknown, base: ConfigPath, locate: Locator): { problems: Problem[]; invalidPaths: ConfigPath[] } {
    const validate = VALIDATORS[form];
    if (validate(value)) return { problems: [], invalidPaths: [] };
    const errors = validate.errors ?? [];
    const invalidPaths = errors.filter((e) => e.keyword !== 'additionalProperties' && e.keyword !== 'required').map((e) => pointerToPath(e.instancePath));
    return { problems: explainErrors(errors, base, locate, this.keyHomes), invalidPaths };
  }
}

function withoutRef(node: SchemaNode): SchemaNode {
  const { $ref: _ref, ...rest } = node;
  return rest;
}

function pointerToPath(pointer: string): PathSegment[] {
  if (!pointer) return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

/** `containers[0].dev.workDir` */
export function describePath(path: ConfigPath): string {
  return path.reduce<string>((acc, seg) => (typeof seg === 'number' ? `${acc}[${seg}]` : acc ? `${acc}.${seg}` : seg), '');
}

function typeName(value: unknown): string {
  if (value === null) return 'null (empty)';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return `a ${typeof value} (${JSON.stringify(value)})`;
}

const TYPE_WORDS: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  integer: 'a whole number',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping (key: value)',
};

/** Unknown keys listed one by one; a file with thousands of them is not a config someone typed. */
const UNKNOWN_KEYS_REPORTED = 100;

function explainErrors(errors: ErrorObject[], base: ConfigPath, locate: Locator, keyHomes: Map<string, string[]>): Problem[] {
  // An anyOf failure explains itself; the failures of its branches at the same spot are noise.
  const anyOfSpots = new Set(errors.filter((e) => e.keyword === 'anyOf').map((e) => e.instancePath));
  const problems: Problem[] = [];
  let unknownKeys = 0;
  for (const e of errors) {
    if (e.keyword !== 'anyOf' && e.schemaPath.includes('/anyOf/') && anyOfSpots.has(e.instancePath)) continue;
    // Past the limit an unknown key costs nothing: no position, no suggestion, no line of output.
    if (e.keyword === 'additionalProperties' && ++unknownKeys > UNKNOWN_KEYS_REPORTED) {
      if (unknownKeys === UNKNOWN_KEYS_REPORTED + 1) {
        const key = (e.params as { additionalProperty: string }).additionalProperty;
        problems.push({ ...locate([...base, ...pointerToPath(e.instancePath), key], 'key'), severity: 'warning', code: 'unknown-key',
          message: `more than ${UNKNOWN_KEYS_REPORTED} unknown keys are ignored; the others are not listed`, hint: 'is this the right file? See the README for the keys a config has' });
      }
      continue;
    }
    const path = [...base, ...pointerToPath(e.instancePath)];
    const where = describePath(path.slice(base.length)) || 'this';
    const last = path[path.length - 1];
    const parent = path.slice(0, -1);
    const listName = typeof parent[parent.length - 1] === 'string' ? `\`${String(parent[parent.length - 1])}\`` : 'the list';
    const name = last === undefined ? 'the config' : typeof last === 'number' ? `item ${last + 1} of ${listName}` : `\`${last}\``;
    const at = (target?: 'key' | 'value') => locate(path, target);
    switch (e.keyword) {
      case 'additionalProperties': {
        const key = (e.params as { additionalProperty: string }).additionalProperty;
        const allowed = Object.keys((e.parentSchema as SchemaNode | undefined)?.properties ?? {});
        const guess = closest(key, allowed);
        // Homes inside a service are relative to it; outside the services, say where services are.
        const inAppLevel = path[0] === 'application' ? path[1] !== 'services' : path.length === 0 && base.length === 0;
        const homes = (keyHomes.get(key) ?? [])
          .filter((h) => h !== describePath(path.slice(base.length)))
          .map((h) => (inAppLevel && !h.startsWith('application') && !h.startsWith('configProperties') ? `application.services[].${h}`.replace(/\.$/, '') : h));
        const hint = guess
          ? `did you mean \`${guess}\`?`
          : homes.length > 0
            ? homes[0] === ''
              ? `\`${key}\` belongs at the top level of a service`
              : `\`${key}\` belongs under \`${homes[0]}\``
            : `allowed here: ${allowed.map((k) => `\`${k}\``).join(', ')}`;
        // nhctl decoded YAML into Go structs, which drop unknown keys: a config it ran must not stop here.
        problems.push({ ...locate([...path, key], 'key'), severity: 'warning', code: 'unknown-key', message: `unknown key \`${key}\` in ${where === 'this' ? 'this mapping' : `\`${where}\``} is ignored`, hint });
        break;
      }
      case 'required': {
        const key = (e.params as { missingProperty: string }).missingProperty;
        problems.push({ ...at(), severity: 'error', code: 'missing-key', message: `missing required key \`${key}\`${where === 'this' ? '' : ` in \`${where}\``}`, hint: `add \`${key}: …\`` });
        break;
      }
      case 'type': {
        const expected = ([] as string[]).concat(e.schema as string | string[]).map((t) => TYPE_WORDS[t] ?? t).join(' or ');
        problems.push({ ...at(), severity: 'error', code: 'wrong-type', message: `${name} must be ${expected}, not ${typeName(e.data)}`, ...typeHint(e) });
        break;
      }
      case 'enum': {
        const allowed = (e.schema as unknown[]).map(String);
        const guess = closest(String(e.data), allowed);
        problems.push({ ...at(), severity: 'error', code: 'bad-value', message: `${name} must be one of ${allowed.join(', ')}, not \`${String(e.data)}\``, hint: guess ? `did you mean \`${guess}\`?` : `use one of: ${allowed.join(', ')}` });
        break;
      }
      case 'anyOf': {
        const all = ((e.schema as SchemaNode[]) ?? []).flatMap((s) => (s.enum ? s.enum.map(String) : s.description ? [s.description.replace(/\.$/, '').toLowerCase()] : []));
        // One spelling per option: `deployment` stands for `Deployment` too.
        const options = all.filter((o, i) => all.findIndex((x) => x.toLowerCase() === o.toLowerCase()) === i);
        const guess = closest(String(e.data), options);
        problems.push({ ...at(), severity: 'error', code: 'bad-value', message: `${name} must be one of ${options.join(', ')}; got \`${String(e.data)}\``, hint: guess ? `did you mean \`${guess}\`?` : `use one of: ${options.slice(0, 6).join(', ')}` });
        break;
      }
      case 'minimum':
      case 'maximum': {
        problems.push({ ...at(), severity: 'error', code: 'out-of-range', message: `${name} ${e.message ?? 'is out of range'}, got ${String(e.data)}`, hint: 'ports are whole numbers from 1 to 65535' });
        break;
      }
      default:
        problems.push({ ...at(), severity: 'error', code: `schema-${e.keyword}`, message: `${name} ${e.message ?? 'is invalid'}` });
    }
  }
  return problems;
}

function typeHint(e: ErrorObject): { hint?: string } {
  const expected = ([] as string[]).concat(e.schema as string | string[]);
  if (expected.includes('array') && typeof e.data === 'string') return { hint: 'write a list: one `- item` per line, or [a, b]' };
  if (expected.includes('object') && (e.data === null || e.data === undefined)) return { hint: 'give it keys, indented under it, or remove it' };
  if (expected.includes('object') && Array.isArray(e.data)) return { hint: 'remove the `-`: this takes keys, not list items' };
  if (expected.includes('array') && e.data !== null && typeof e.data === 'object') return { hint: 'start each item with `- `' };
  if (expected.includes('string') && typeof e.data === 'number') return { hint: 'quote it: "…"' };
  return {};
}

/** For every key: the places (as dotted paths) where the schema allows it. */
function collectKeyHomes(doc: SchemaDocument): Map<string, string[]> {
  const homes = new Map<string, string[]>();
  const seen = new Set<SchemaNode>();
  const visit = (node: SchemaNode | undefined, at: string) => {
    if (!node || seen.has(node)) return;
    if (node.$ref) {
      visit(doc.$defs[node.$ref.replace('#/$defs/', '')], at);
      return;
    }
    seen.add(node);
    for (const [key, child] of Object.entries(node.properties ?? {})) {
      homes.set(key, [...(homes.get(key) ?? []), at]);
      // Fields nh does not use are no place to send a misplaced key.
      if (!child['x-nh-unused']) visit(child, at ? `${at}.${key}` : key);
    }
    if (node.items) visit(node.items, `${at}[]`);
    for (const alt of node.anyOf ?? []) visit(alt, at);
  };
  // Only the v2 forms: a v1 key is never the answer to "where does this belong". Paths inside a service
  // are relative to the service, which stands at the top or under `application.services`.
  visit(doc.$defs['service'], '');
  visit(doc.$defs['appConfig'], '');
  for (const [key, places] of homes) homes.set(key, places.filter((p, i) => places.indexOf(p) === i));
  return homes;
}
