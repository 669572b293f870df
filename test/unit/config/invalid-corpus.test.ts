// Every file under test/fixtures/invalid must fail validation with its expected first error, where expected.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../../src/config/load.js';
import { ConfigSchema } from '../../../src/config/schema.js';
import { nodeConfigFiles } from '../../../src/cli/context.js';
import { repoRoot } from '../../support/paths.js';

interface Expected {
  readonly file: string;
  readonly line: number;
  readonly col: number;
  readonly code: string;
  readonly message: string;
}

const dir = join(repoRoot, 'test/fixtures/invalid');
const expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as Record<string, Expected>;
const schema = ConfigSchema.load();
const files = nodeConfigFiles(dir);

test('the corpus has at least 30 invalid configs', () => {
  assert.ok(Object.keys(expected).length >= 30);
});

for (const [name, want] of Object.entries(expected)) {
  test(`invalid: ${name}`, () => {
    const result = loadConfig({ paths: [join(dir, name)], env: {}, files, schema });
    assert.equal(result.ok, false, `${name} should be invalid`);
    const first = result.problems.find((p) => p.severity === 'error')!;
    assert.deepEqual({ file: first.file, line: first.line, col: first.col, code: first.code, message: first.message }, want);
  });
}
