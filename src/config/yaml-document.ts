/**
 * YAML parsing with positions. js-yaml gives values only; the `yaml` package keeps every node's range,
 * reports duplicate keys, tabs and bad indentation as located errors, and so lets each problem point at
 * file:line:col.
 */
import { Composer, Parser, isAlias, isMap, isScalar, isSeq, type CST, type Document, type Node as YamlNode, type Pair, type YAMLMap } from 'yaml';
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

/**
 * What a config may make the parser and the checks do. Real configs are far below (a 20-service app is ~300
 * lines, ~1,000 values, 8 levels deep); a hostile file (an alias bomb, 10,000 nested `[`, thousands of keys) is
 * stopped with a located error before it costs time, memory or the stack: the parser spends about a second
 * (cold) on 18,000 values.
 */
export const YAML_LIMITS = { lines: 20_000, depth: 64, values: 10_000 } as const;

/** 10000 → "10,000", as toLocaleString('en') writes it without its first call's ICU start (≈ 20 ms of CPU). */
function withThousands(value: number): string {
  return String(value).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

export function parseYaml(text: MappedText): { parsed?: ParsedYaml; problems: Problem[] } {
  const tooLarge = (offset: number, message: string, hint: string): { problems: Problem[] } =>
    ({ problems: [{ ...text.position(offset), severity: 'error', code: 'yaml-too-large', message, hint }] });
  const lineLimit = offsetOfLine(text.text, YAML_LIMITS.lines + 1);
  if (lineLimit !== undefined) {
    return tooLarge(lineLimit, `the config has more than ${withThousands(YAML_LIMITS.lines)} lines`, 'is this the right file? A dev config is a few hundred lines');
  }
  // The parser builds a node per value before anything can be counted: 75,000 flow values on one line cost it
  // seconds and 170 MB. Values and flow nesting are bounded first by a scan of the characters.
  const scanned = scanExcess(text.text);
  if (scanned) return tooLarge(scanned.offset, scanned.message, scanned.hint);
  // Only the first document is parsed: a second one is an error whatever follows it.
  const tokens: CST.Token[] = [];
  let secondDocument: number | undefined;
  for (const token of new Parser().parse(text.text)) {
    if (token.type === 'document' && tokens.some((t) => t.type === 'document')) {
      secondDocument = token.offset;
      break;
    }
    tokens.push(token);
  }
  const excess = structureExcess(tokens);
  if (excess) return tooLarge(excess.offset, excess.message, excess.hint);
  // Duplicate keys are found below in linear time; the library's check is quadratic.
  const doc = new Composer({ uniqueKeys: false }).compose(tokens, true, secondDocument ?? text.text.length).next().value as Document.Parsed;
  const problems: Problem[] = doc.errors.map((e) => ({
    ...text.position(e.pos[0]),
    severity: 'error' as const,
    code: `yaml-${e.code.toLowerCase().replace(/_/g, '-')}`,
    message: `YAML: ${firstLine(e.message)}`,
    ...(YAML_HINTS[e.code] ? { hint: YAML_HINTS[e.code] } : {}),
  }));
  if (secondDocument !== undefined) {
    problems.push({ ...text.position(secondDocument), severity: 'error', code: 'yaml-multiple-docs',
      message: 'YAML: a second document starts here; a config is one document', hint: 'remove the `---` line, or move the second document to a file of its own' });
  }
  problems.push(...duplicateKeys(doc, text));
  if (problems.length > 0) return { problems };
  const aliases = aliasProblem(doc);
  if (aliases) return { problems: [{ ...text.position(aliases.offset), severity: 'error', ...aliases.problem }] };
  // Every alias is resolved and the expanded document is bounded (aliasProblem), so the library's own guard,
  // which refuses an anchor used more than 100 times, is not needed.
  return { parsed: { value: doc.toJS({ maxAliasCount: -1 }) as unknown, locate: locator(doc, text) }, problems };
}

/** Offset where line `line` (1-based) starts, or undefined when the text is shorter. */
function offsetOfLine(text: string, line: number): number | undefined {
  let offset = 0;
  for (let n = 1; n < line; n++) {
    const next = text.indexOf('\n', offset);
    if (next < 0 || next === text.length - 1) return undefined;
    offset = next + 1;
  }
  return offset;
}

const TOO_DEEP = { message: `the config nests more than ${YAML_LIMITS.depth} levels deep`, hint: 'a dev config nests about 8 levels; check for unclosed `[` or `{`' };
const TOO_MANY = { message: `the config holds more than ${withThousands(YAML_LIMITS.values)} values`, hint: 'is this the right file? A dev config holds a few hundred values' };

/**
 * The first place where flow collections (`[…]`, `{…}`) nest too deep or the document holds too many values, found
 * in one pass over the characters, skipping comments, quoted scalars and block scalars. Values are counted as the
 * parser would, give or take one a line (each `- `, a key, a value after it, each `[`, `{` and `,`); the limits
 * are far above any real config.
 */
function scanExcess(text: string): { offset: number; message: string; hint: string } | undefined {
  let depth = 0;
  let values = 0;
  /** Indentation of the line that opened a block scalar (`|`, `>`); its more-indented lines are skipped. */
  let blockScalarIndent = -1;
  let lineStart = 0;
  let i = 0;
  const indentAt = (start: number) => {
    let j = start;
    while (text[j] === ' ') j++;
    return j - start;
  };
  while (i < text.length) {
    const c = text[i]!;
    if (i === lineStart && blockScalarIndent >= 0) {
      const end = text.indexOf('\n', i);
      const blank = text.slice(i, end < 0 ? text.length : end).trim() === '';
      if (blank || indentAt(i) > blockScalarIndent) {
        i = lineStart = end < 0 ? text.length : end + 1;
        continue;
      }
      blockScalarIndent = -1;
    }
    if (i === lineStart && depth === 0 && (values += blockValuesOf(text, i)) > YAML_LIMITS.values) return { offset: i, ...TOO_MANY };
    const before = i === lineStart ? ' ' : text[i - 1]!;
    const atTokenStart = before === ' ' || before === '\t' || (depth > 0 && (before === '[' || before === '{' || before === ','));
    if (c === '\n') {
      lineStart = i + 1;
    } else if (c === '#' && (before === ' ' || before === '\t' || i === lineStart)) {
      const end = text.indexOf('\n', i);
      i = end < 0 ? text.length : end;
      continue;
    } else if ((c === '"' || c === "'") && atTokenStart) {
      i = closingQuote(text, i) + 1;
      continue;
    } else if ((c === '|' || c === '>') && depth === 0 && atTokenStart && /^[|>][-+0-9]*[ \t]*(#.*)?(\r?\n|$)/.test(text.slice(i, i + 80))) {
      blockScalarIndent = indentAt(lineStart);
    } else if (c === '[' || c === '{') {
      if (++depth > YAML_LIMITS.depth) return { offset: i, ...TOO_DEEP };
      if (++values > YAML_LIMITS.values) return { offset: i, ...TOO_MANY };
    } else if ((c === ']' || c === '}') && depth > 0) {
      depth--;
    } else if (c === ',' && depth > 0 && ++values > YAML_LIMITS.values) {
      return { offset: i, ...TOO_MANY };
    }
    i++;
  }
  return undefined;
}

/** Values a block line starts: one per `- `, then a key and the value after it on the line, or a plain value. */
function blockValuesOf(text: string, start: number): number {
  const end = text.indexOf('\n', start);
  const line = text.slice(start, end < 0 ? text.length : end).trimStart();
  if (line === '' || line.startsWith('#')) return 0;
  const items = /^(?:-(?:[ \t]+|$))*/.exec(line)![0];
  const rest = line.slice(items.length);
  const dashes = (items.match(/-/g) ?? []).length;
  if (rest === '' || rest.startsWith('#')) return dashes;
  const key = /^[^'"[{#][^#]*?:(?:[ \t]+|$)/.exec(rest);
  const inline = key ? rest.slice(key[0].length) : rest;
  // A flow collection is counted by its brackets and commas.
  const value = inline === '' || inline.startsWith('#') || inline.startsWith('[') || inline.startsWith('{') ? 0 : 1;
  return dashes + (key ? 1 : 0) + value;
}

/** Offset of the quote closing the scalar opened at `open` (`''` escapes a single quote, `\` a double one). */
function closingQuote(text: string, open: number): number {
  const quote = text[open]!;
  for (let i = open + 1; i < text.length; i++) {
    if (quote === '"' && text[i] === '\\') i++;
    else if (text[i] === quote) {
      if (quote === "'" && text[i + 1] === "'") i++;
      else return i;
    }
  }
  return text.length;
}

/** The first place where the syntax tree nests too deep or holds too many values; walked without recursion. */
function structureExcess(tokens: readonly CST.Token[]): { offset: number; message: string; hint: string } | undefined {
  const stack: Array<{ token: CST.Token; depth: number }> = tokens.flatMap((t) => (t.type === 'document' && t.value ? [{ token: t.value, depth: 0 }] : []));
  let values = 0;
  while (stack.length > 0) {
    const { token, depth } = stack.pop()!;
    if (depth > YAML_LIMITS.depth) return { offset: token.offset, ...TOO_DEEP };
    if (++values > YAML_LIMITS.values) return { offset: token.offset, ...TOO_MANY };
    if (token.type === 'block-map' || token.type === 'block-seq' || token.type === 'flow-collection') {
      for (const item of token.items) {
        if (item.key) stack.push({ token: item.key, depth: depth + 1 });
        if (item.value) stack.push({ token: item.value, depth: depth + 1 });
      }
    }
  }
  return undefined;
}

/** Duplicate keys, found with one set per mapping (the library's `uniqueKeys` compares every pair: minutes for 50,000 keys). */
function duplicateKeys(doc: Document.Parsed, text: MappedText): Problem[] {
  const problems: Problem[] = [];
  const visit = (node: unknown) => {
    if (isMap(node)) {
      const seen = new Set<unknown>();
      for (const pair of node.items) {
        const key = isScalar(pair.key) ? pair.key.value : undefined;
        if (key !== undefined && seen.has(key)) {
          problems.push({ ...text.position((pair.key as YamlNode).range?.[0] ?? 0), severity: 'error', code: 'yaml-duplicate-key', message: 'YAML: Map keys must be unique', hint: YAML_HINTS['DUPLICATE_KEY']! });
        }
        seen.add(key);
        visit(pair.value);
      }
    } else if (isSeq(node)) {
      for (const item of node.items) visit(item);
    }
  };
  visit(doc.contents);
  return problems;
}

/**
 * Aliases are checked before the document becomes data: each must follow its anchor and lie outside it (else the
 * data would be circular), and all of them together may not expand the document beyond YAML_LIMITS.values
 * ("billion laughs": nine aliases of nine aliases of … is 9^9 values from a few lines).
 */
function aliasProblem(doc: Document.Parsed): { offset: number; problem: Pick<Problem, 'code' | 'message' | 'hint'> } | undefined {
  const anchors = new Map<string, number | 'open'>();
  let found: ReturnType<typeof aliasProblem>;
  let total = 0;
  /** Values the node stands for once its aliases are expanded; undefined once a problem is found. */
  const size = (node: unknown): number | undefined => {
    if (found) return undefined;
    if (isAlias(node)) {
      const target = anchors.get(node.source);
      const offset = node.range?.[0] ?? 0;
      if (target === undefined) {
        found = { offset, problem: { code: 'yaml-unknown-alias', message: `YAML: alias \`*${node.source}\` has no anchor \`&${node.source}\` before it`, hint: 'define the anchor first; an alias repeats a value written above it' } };
      } else if (target === 'open') {
        found = { offset, problem: { code: 'yaml-circular-alias', message: `YAML: alias \`*${node.source}\` is inside the value anchored \`&${node.source}\`, which would contain itself`, hint: 'an alias can repeat only a value that is complete above it' } };
      } else if ((total += target) > YAML_LIMITS.values) {
        found = { offset, problem: { code: 'yaml-too-large', message: `the aliases expand the config to more than ${withThousands(YAML_LIMITS.values)} values`, hint: 'is this an alias bomb? A dev config repeats a few values with aliases, not thousands' } };
      }
      return found ? undefined : target as number;
    }
    const anchor = (node as { anchor?: string } | null)?.anchor;
    if (anchor) anchors.set(anchor, 'open');
    let n = 1;
    if (isMap(node)) for (const pair of node.items) n += (size(pair.key) ?? 0) + (size(pair.value) ?? 0);
    else if (isSeq(node)) for (const item of node.items) n += size(item) ?? 0;
    if (anchor) anchors.set(anchor, n);
    return n;
  };
  size(doc.contents);
  return found;
}

function firstLine(message: string): string {
  // The library appends "at line X, column Y:" and a code frame; the position is reported separately.
  return message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
}

function locator(doc: Document, text: MappedText): Locator {
  // Each mapping's keys indexed once: a problem per key of a 10,000-key mapping must not cost 10,000² steps.
  const indexes = new WeakMap<YAMLMap, Map<string, Pair>>();
  const pairOf = (map: YAMLMap, key: string) => {
    let index = indexes.get(map);
    if (!index) {
      index = new Map();
      for (const pair of map.items) if (isScalar(pair.key) && !index.has(String(pair.key.value))) index.set(String(pair.key.value), pair);
      indexes.set(map, index);
    }
    return index.get(key);
  };
  return (path, target = 'value') => {
    let node: unknown = doc.contents;
    let keyNode: YamlNode | undefined;
    let last: YamlNode | undefined = isNode(node) ? node : undefined;
    for (const segment of path) {
      keyNode = undefined;
      if (isMap(node)) {
        const pair = pairOf(node, String(segment));
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
