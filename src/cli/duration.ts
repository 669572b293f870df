/** `--timeout 90s`, `5m`, `1h30m`, `500ms` → milliseconds. */
import { UsageError } from '../errors.js';

const UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

export function parseDuration(text: string, flagName: string): number {
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
  const total = parts.reduce((sum, m) => sum + Number(m[1]) * UNITS[m[2]!]!, 0);
  if (parts.length === 0 || parts.map((m) => m[0]).join('') !== text || total <= 0) {
    throw new UsageError(`--${flagName} must be a duration like 90s, 5m or 1h30m, not \`${text}\``);
  }
  return total;
}
