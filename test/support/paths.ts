import { fileURLToPath } from 'node:url';

/** The repository root (tests run compiled, from dist/test/…). */
export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
