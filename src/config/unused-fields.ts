/**
 * Fields nh accepts but does not act on (marked `x-nh-unused` in the schema) are reported, never
 * silently ignored: a user who set them should know they have no effect.
 */
import type { ConfigSchema, SchemaNode } from './schema.js';
import type { ConfigPath, Locator } from './yaml-document.js';
import type { Problem } from './problems.js';

export function findUnusedFields(schema: ConfigSchema, node: SchemaNode, value: unknown, path: ConfigPath, locate: Locator): Problem[] {
  const problems: Problem[] = [];
  const visit = (raw: SchemaNode | undefined, data: unknown, at: ConfigPath) => {
    if (!raw || data === undefined || data === null) return;
    const key = at[at.length - 1];
    const resolved = schema.resolve(raw);
    const reason = raw['x-nh-unused'] ?? resolved['x-nh-unused'];
    if (reason && typeof key === 'string') {
      problems.push({
        ...locate(at, 'key'),
        severity: 'warning',
        code: 'not-used',
        message: `\`${key}\` is accepted, not yet used by nh: ${reason}`,
      });
      return;
    }
    if (Array.isArray(data)) {
      data.forEach((item, i) => visit(resolved.items, item, [...at, i]));
    } else if (typeof data === 'object') {
      for (const [k, v] of Object.entries(data as Record<string, unknown>)) visit(resolved.properties?.[k], v, [...at, k]);
    }
  };
  visit(node, value, path);
  return problems;
}
