// A seeded fuzz test of the loader: mutations of every fixture and of hostile generators (alias bombs, deep
// nesting, huge scalars and line counts, many documents, include bombs). Whatever the input, loadConfig returns
// problems (never throws), and each problem points inside the file it names. Timings and memory are measured by
// bench/validate.bench.ts, not asserted here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../../src/config/load.js';
import { ConfigSchema } from '../../../src/config/schema.js';
import { memoryFiles } from '../../support/memory-files.js';
import { repoRoot } from '../../support/paths.js';
import { HOSTILE } from '../../support/hostile-yaml.js';

const CONFIG = '/work/app/.nocalhost/config.yaml';
const INCLUDED = '/work/app/.nocalhost/part.yaml';
const schema = ConfigSchema.load();
const CASES = 300;

/** mulberry32: a small deterministic PRNG, so a failure is reproduced by its case number. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return yamlFiles(path);
    return name.endsWith('.yaml') ? [readFileSync(path, 'utf8')] : [];
  });
}

const seeds = [
  ...yamlFiles(join(repoRoot, 'test/fixtures')),
  readFileSync(join(repoRoot, 'examples/booking/.nocalhost/config.yaml'), 'utf8'),
];

/** Characters that change what YAML and the templating read. */
const SIGNIFICANT = ['[', ']', '{', '}', ':', '- ', '&a ', '*a', '!', '|', '>', "'", '"', '#', '\n', '\t', ' ', '$', '${', '}', '---\n', '? ', ',', '\\', '\u0000', 'é', '\r\n', '${_INCLUDE_:- ./part.yaml | nindent 2}', 'null', '""', '0', '[]', '{}'];

function mutate(text: string, random: () => number): string {
  const at = () => Math.floor(random() * (text.length + 1));
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  const rounds = 1 + Math.floor(random() * 4);
  for (let r = 0; r < rounds; r++) {
    const a = at();
    const b = Math.min(text.length, a + Math.floor(random() * 40));
    switch (Math.floor(random() * 5)) {
      case 0: text = text.slice(0, a) + text.slice(b); break;
      case 1: text = text.slice(0, b) + text.slice(a, b).repeat(1 + Math.floor(random() * 50)) + text.slice(b); break;
      case 2: text = text.slice(0, a) + pick(SIGNIFICANT) + text.slice(a); break;
      case 3: text = text.slice(0, a); break;
      default: {
        // An empty value where a value was: what the IDE plugins wrote.
        text = text.replace(/: [^\n{}[\],]+/, `: ${pick(['', 'null', '""', '0', '[]', '{}', '~'])}`);
      }
    }
  }
  return text;
}

function checkWellFormed(files: Record<string, string>, name: string): void {
  const reader = memoryFiles(files);
  const result = loadConfig({ paths: [CONFIG], env: {}, files: reader, schema });
  const lines = new Map(Object.entries(files).map(([path, text]) => [reader.display(path), text.split('\n')]));
  for (const p of result.problems) {
    const fileLines = lines.get(p.file);
    assert.ok(fileLines, `${name}: problem in unknown file ${p.file}: ${p.message}`);
    assert.ok(Number.isInteger(p.line) && p.line >= 1 && p.line <= fileLines.length, `${name}: line ${p.line} of ${fileLines.length}: ${p.message}`);
    assert.ok(Number.isInteger(p.col) && p.col >= 1 && p.col <= fileLines[p.line - 1]!.length + 1, `${name}: ${p.line}:${p.col} beyond the line: ${p.message}`);
    assert.ok(p.code && p.message, `${name}: a problem without code or message`);
  }
  assert.equal(result.ok, !result.problems.some((p) => p.severity === 'error'), `${name}: ok and the errors disagree`);
}

test(`fuzz: ${CASES} mutated and hostile configs load into located problems, never an exception`, () => {
  const random = prng(0x6e68);
  for (let i = 0; i < CASES; i++) {
    const hostile = i % 4 === 0;
    const base = hostile ? HOSTILE[(i / 4) % HOSTILE.length]!.make(1 + Math.floor(random() * 2)) : seeds[Math.floor(random() * seeds.length)]!;
    const text = mutate(base, random);
    const part = mutate(seeds[Math.floor(random() * seeds.length)]!, random);
    checkWellFormed({ [CONFIG]: text, [INCLUDED]: part }, `case ${i}${hostile ? ` (${HOSTILE[(i / 4) % HOSTILE.length]!.name})` : ''}`);
  }
});

test('each hostile generator, unmutated, is answered with its located problem (refused unless nhctl accepted it)', () => {
  for (const { name, make, code, accepted } of HOSTILE) {
    const result = loadConfig({ paths: [CONFIG], env: {}, files: memoryFiles({ [CONFIG]: make(1), [INCLUDED]: make(1) }), schema });
    assert.equal(result.ok, accepted === true, name);
    assert.ok(result.problems.some((p) => p.code === code), `${name}: ${JSON.stringify(result.problems.slice(0, 3))}`);
  }
});

test('the size limits are stated with thousands separators', () => {
  const lines = loadConfig({ paths: [CONFIG], env: {}, files: memoryFiles({ [CONFIG]: `name: x\n${'# c\n'.repeat(25_000)}` }), schema });
  assert.ok(lines.problems.some((p) => p.message === 'the config has more than 20,000 lines'), JSON.stringify(lines.problems.slice(0, 2)));
  const values = loadConfig({ paths: [CONFIG], env: {}, files: memoryFiles({ [CONFIG]: `name: x\nlist: [${'1,'.repeat(12_000)}1]\n` }), schema });
  assert.ok(values.problems.some((p) => p.message === 'the config holds more than 10,000 values'), JSON.stringify(values.problems.slice(0, 2)));
});
