/**
 * Empty values read as nhctl read them. Nocalhost's IDE plugins wrote configs full of `hub: null`, `workDir: ""`,
 * `resources:` with nothing under it, `remoteDebugPort: 0`, `portForward: []`; nhctl decoded YAML into Go structs,
 * where each of these is a zero value: not set. Here they are removed before the schema check, so that everything
 * downstream (rules, defaults) sees exactly what it sees when the key is absent.
 */
import type { ConfigSchema, SchemaNode } from './schema.js';
import type { ConfigPath, PathSegment } from './yaml-document.js';

export interface WithoutEmptyValues {
  /** A copy of the value without its empty values (the input is not changed: aliases share objects). */
  readonly value: unknown;
  /** Where values were dropped (object keys) or made `{}` (null items of a list of mappings), with what was written. */
  readonly emptied: readonly { readonly path: ConfigPath; readonly written: string }[];
}

export function withoutEmptyValues(schema: ConfigSchema, node: SchemaNode, value: unknown): WithoutEmptyValues {
  const emptied: { path: ConfigPath; written: string }[] = [];
  const clean = (raw: SchemaNode, data: unknown, at: readonly PathSegment[]): unknown => {
    const resolved = schema.resolve(raw);
    if (Array.isArray(data)) {
      const items = resolved.items;
      if (!items) return data;
      // A null item of []struct decodes to the zero struct in Go; it stays in place so later indexes keep their positions.
      const itemsAreMappings = typesOf(schema, items).has('object');
      return data.map((item, i) => {
        if (item === null && itemsAreMappings) {
          emptied.push({ path: [...at, i], written: 'null' });
          return {};
        }
        return clean(items, item, [...at, i]);
      });
    }
    if (!isMapping(data)) return data;
    const kept: Record<string, unknown> = {};
    for (const [key, child] of Object.entries(data)) {
      const childSchema = resolved.properties?.[key];
      // Unknown keys are left for the schema check to report.
      if (!childSchema) {
        kept[key] = child;
        continue;
      }
      const cleaned = clean(childSchema, child, [...at, key]);
      if (isUnset(typesOf(schema, childSchema), cleaned)) emptied.push({ path: [...at, key], written: written(child) });
      else kept[key] = cleaned;
    }
    return kept;
  };
  return { value: clean(node, value, []), emptied };
}

/** Go's zero values, for a field of these JSON types: `0` only for whole numbers (ports), never `false`. */
function isUnset(types: ReadonlySet<string>, value: unknown): boolean {
  if (value === null) return true;
  if (value === '') return types.has('string');
  if (value === 0) return types.size === 1 && types.has('integer');
  if (Array.isArray(value)) return value.length === 0 && types.has('array');
  return isMapping(value) && Object.keys(value).length === 0 && types.has('object');
}

function typesOf(schema: ConfigSchema, raw: SchemaNode): Set<string> {
  const node = schema.resolve(raw);
  const types = new Set<string>([node.type ?? []].flat());
  for (const branch of node.anyOf ?? []) for (const t of typesOf(schema, branch)) types.add(t);
  return types;
}

function written(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return '[]';
  if (isMapping(value)) return Object.keys(value).length === 0 ? '{}' : 'only empty values';
  return JSON.stringify(value);
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
