/** Problems as `file:line:col: severity: message` lines with their hint: the format editors and CI parse. */
import type { Problem } from '../../config/problems.js';
import type { LoadResult } from '../../config/load.js';
import type { Style } from '../terminal.js';

export function renderProblems(problems: readonly Problem[], style: Style): string {
  return problems
    .map((p) => {
      const label = p.severity === 'error' ? style.red('error') : style.yellow('warning');
      const hint = p.hint ? `\n  ${style.dim('hint:')} ${p.hint}` : '';
      return `${style.bold(`${p.file}:${p.line}:${p.col}`)}: ${label}: ${p.message}${hint}\n`;
    })
    .join('');
}

export function summarize(files: readonly string[], result: LoadResult, style: Style): string {
  const count = (severity: Problem['severity']) => result.problems.filter((p) => p.severity === severity).length;
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  const warnings = count('warning');
  const names = files.join(', ');
  if (result.ok) {
    const services = result.config.services.length;
    return `${style.green('✓')} ${names}: valid, ${plural(services, 'service')}${warnings ? `, ${plural(warnings, 'warning')}` : ''}`;
  }
  return `${style.red('✖')} ${names}: ${plural(count('error'), 'error')}${warnings ? `, ${plural(warnings, 'warning')}` : ''}`;
}
