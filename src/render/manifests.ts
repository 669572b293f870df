/**
 * Manifest text → Kubernetes objects with where each was written, pure. Files hold multi-document YAML or
 * JSON; empty and `null` documents are dropped (as kubectl does), a `List` is expanded into its items, and a
 * document that is not an object with apiVersion, kind and metadata.name is a located problem.
 */
import { parseAllDocuments } from 'yaml';
import type { Problem, SourcePosition } from '../config/problems.js';
import type { KubeObject } from '../model/kube-object.js';
import { positionIn } from '../config/source-text.js';

export interface RenderedObject {
  readonly object: KubeObject;
  /** Where the document starts: file:line:col for messages. */
  readonly at: SourcePosition;
}

export interface ParsedManifests {
  readonly objects: RenderedObject[];
  readonly problems: Problem[];
}

/** Hostile input stays cheap: aliases are bounded as in config loading. */
const MAX_ALIAS_COUNT = 100;

export function parseManifests(file: string, text: string): ParsedManifests {
  const objects: RenderedObject[] = [];
  const problems: Problem[] = [];
  const source = { path: file, text };
  const position = (offset: number): SourcePosition => positionIn(source, offset);
  // YAML 1.1, as kubectl reads manifests (sigs.k8s.io/yaml): `on`, `yes`, `N` are booleans there too.
  for (const doc of parseAllDocuments(text, { version: '1.1', uniqueKeys: true, prettyErrors: false })) {
    if (doc.errors.length) {
      for (const e of doc.errors) {
        problems.push({ ...position(e.pos[0]), severity: 'error', code: 'manifest-yaml', message: `YAML: ${e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}`,
          hint: 'fix the manifest; `kubectl apply --dry-run=client -f FILE` shows the same' });
      }
      continue;
    }
    const start = doc.contents?.range[0] ?? doc.range[0];
    const value: unknown = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    if (value === null || value === undefined) continue;
    const at = position(start);
    const items = isObject(value) && value['kind'] === 'List' && Array.isArray(value['items']) ? (value['items'] as unknown[]) : [value];
    for (const item of items) {
      const problem = checkObject(item);
      if (problem) problems.push({ ...at, severity: 'error', code: 'manifest-invalid', message: problem, hint: 'every manifest needs apiVersion, kind and metadata.name' });
      else objects.push({ object: item as KubeObject, at });
    }
  }
  return { objects, problems };
}

function checkObject(value: unknown): string | undefined {
  if (!isObject(value)) return `a manifest must be a mapping, not ${Array.isArray(value) ? 'a list' : typeof value}`;
  for (const key of ['apiVersion', 'kind'] as const) {
    if (typeof value[key] !== 'string' || !value[key]) return `the manifest has no \`${key}\``;
  }
  const metadata = value['metadata'];
  if (!isObject(metadata) || typeof metadata['name'] !== 'string' || !metadata['name']) {
    return `the ${String(value['kind'])} has no \`metadata.name\`${isObject(metadata) && metadata['generateName'] ? ' (generateName cannot be applied idempotently)' : ''}`;
  }
  return undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
