/**
 * YAML parsing with positions. js-yaml gives values only; the `yaml` package keeps every node's range,
 * reports duplicate keys, tabs and bad indentation as located errors, and so lets each problem point at
 * file:line:col.
 */
import { isMap, isPair, isScalar, isSeq, parseDocument, type Document, type Node as YamlNode } from 'yaml';
import type { Problem, SourcePosition } from './problems.js';
import type { MappedText } from './source-text.js';

export type PathSegment = string | number;
export type ConfigPath = readonly PathSegment[];

export interface ParsedYaml {
  /** The document as plain data (maps become objects). */
  readonly value: unknown;
  readonly locate: Locator;
}

/** Position of the value at a path, or of its key (`target: 'key'`); the nearest existing ancestor otherwise. */
export type Locator = (path: ConfigPath, target?: 'key' | 'value') => SourcePosition;

const YAML_HINTS: Record<string, string> = {
  DUPLICATE_KEY: 'remove or rename one of the two keys',
  TAB_AS_INDENT: 'YAML indents with spaces only; replace the tab with spaces',
  BAD_INDENT: 'align the key with its siblings (same number of spaces)',
  BLOCK_AS_IMPLICIT_KEY: 'a key and its value must be on one line, or check the indentation above',
  MISSING_CHAR: 'a quote or bracket is not closed',
  MULTILINE_IMPLICIT_KEY: 'a key must fit on one line; check for a missing `:` or quote',
  UNEXPECTED_TOKEN: 'check the indentation and the `-` / `:` on this line',
};

export function parseYaml(text: MappedText): { parsed?: ParsedYaml; problems: Problem[] } {
  const doc = parseDocument(text.text, { uniqueKeys: true, prettyErrors: false, keepSourceTokens: false });
  const problems: Problem[] = doc.errors.map((e) => ({
    ...text.position(e.pos[0]),
    severity: 'error' as const,
    code: `yaml-${e.code.toLowerCase().replace(/_/g, '-')}`,
    message: `YAML: ${firstLine(e.message)}`,
    ...(YAML_HINTS[e.code] ? { hint: YAML_HINTS[e.code] } : {}),
  }));
  if (problems.length > 0) return { problems };
  return { parsed: { value: doc.toJS({ maxAliasCount: 100 }) as unknown, locate: locator(doc, text) }, problems };
}

function firstLine(message: string): string {
  // The library appends "at line X, column Y:" and a code frame; the position is reported separately.
  return message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
}

function locator(doc: Document, text: MappedText): Locator {
  return (path, target = 'value') => {
    let node: unknown = doc.contents;
    let keyNode: YamlNode | undefined;
    let last: YamlNode | undefined = isNode(node) ? node : undefined;
    for (const segment of path) {
      keyNode = undefined;
      if (isMap(node)) {
        const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(segment));
        if (!pair) break;
        keyNode = pair.key as YamlNode;
        node = pair.value;
        last = isNode(node) ? node : keyNode;
      } else if (isSeq(node) && typeof segment === 'number' && segment < node.items.length) {
        node = node.items[segment];
        last = isNode(node) ? node : last;
      } else {
        break;
      }
    }
    const chosen = target === 'key' && keyNode ? keyNode : last;
    return text.position(chosen?.range?.[0] ?? 0);
  };
}

function isNode(value: unknown): value is YamlNode {
  return typeof value === 'object' && value !== null && 'range' in value;
}
