/** Problems as `file:line:col: severity: message` lines with their hint: the format editors and CI parse. */
import type { Problem } from '../../config/problems.js';
import type { LoadResult } from '../../config/load.js';
import type { Style } from '../terminal.js';

const LABELS: Record<Problem['severity'], (style: Style) => string> = {
  error: (style) => style.red('error'),
  warning: (style) => style.yellow('warning'),
  info: (style) => style.dim('info'),
};

/** `info` notes are shown only when `verbose` (-v): they say how nh read a value, not that anything is wrong. */
export function renderProblems(problems: readonly Problem[], style: Style, { verbose = false } = {}): string {
  return problems
    .filter((p) => verbose || p.severity !== 'info')
    .map((p) => {
      const label = LABELS[p.severity](style);
      const hint = p.hint ? `\n  ${style.dim('hint:')} ${p.hint}` : '';
      return `${style.bold(`${p.file}:${p.line}:${p.col}`)}: ${label}: ${p.message}${hint}\n`;
    })
    .join('');
}

/** `strict`: warnings fail the file (`nh validate --strict`). */
export function summarize(files: readonly string[], result: LoadResult, style: Style, strict = false): string {
  const count = (severity: Problem['severity']) => result.problems.filter((p) => p.severity === severity).length;
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  const warnings = count('warning');
  const names = files.join(', ');
  if (result.ok && strict && warnings) return `${style.red('✖')} ${names}: ${plural(warnings, 'warning')} (--strict)`;
  if (result.ok) {
    const services = result.config.services.length;
    return `${style.green('✓')} ${names}: valid, ${plural(services, 'service')}${warnings ? `, ${plural(warnings, 'warning')}` : ''}`;
  }
  return `${style.red('✖')} ${names}: ${plural(count('error'), 'error')}${warnings ? `, ${plural(warnings, 'warning')}` : ''}`;
}
