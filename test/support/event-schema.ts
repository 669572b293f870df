// The documented schema of the session's events (nh-events.schema.json), compiled for tests.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { repoRoot } from './paths.js';

export function eventValidator() {
  const ajv = new Ajv({ allErrors: true });
  ajv.addFormat('date-time', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
  return ajv.compile(JSON.parse(readFileSync(join(repoRoot, 'nh-events.schema.json'), 'utf8')) as object);
}
