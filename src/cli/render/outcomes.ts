/** After `nh up --detach` / `nh down`: one line per service, the cause and hint of each failure, a count. */
import type { AppOutcome } from '../../execute/run-app.js';
import type { ServiceOutcome } from '../../execute/run-plan.js';
import type { Style } from '../terminal.js';

export function renderOutcomes(outcomes: readonly ServiceOutcome[], style: Style): string {
  const lines: string[] = [''];
  for (const o of outcomes) {
    const mark = o.status === 'done' ? style.green('✓') : o.status === 'unchanged' ? style.dim('·') : style.red('✖');
    lines.push(`${mark} ${o.service}: ${o.summary}`);
    const detail = o.error?.message.split('\n').slice(1) ?? [];
    for (const line of detail) lines.push(`    ${line}`);
    if (o.error?.hint) lines.push(`    ${style.dim('hint:')} ${o.error.hint}`);
  }
  const count = (status: ServiceOutcome['status']) => outcomes.filter((o) => o.status === status).length;
  const parts = [
    [count('done'), 'changed'], [count('unchanged'), 'unchanged'], [count('restored'), 'failed and restored'],
    [count('stale'), 'stale (run again)'], [count('failed'), 'failed'],
  ].filter(([n]) => Number(n) > 0).map(([n, word]) => `${n} ${word}`);
  lines.push('', `${outcomes.length} service${outcomes.length === 1 ? '' : 's'}: ${parts.join(', ') || 'nothing to do'}.`, '');
  return lines.join('\n');
}

/** The app's line above the services': what the install, upgrade or uninstall did, or why it failed. */
export function renderAppOutcome(outcome: AppOutcome, style: Style): string {
  const mark = outcome.status === 'done' ? style.green('✓') : outcome.status === 'unchanged' ? style.dim('·') : style.red('✖');
  const lines = ['', `${mark} app: ${outcome.summary}`];
  for (const line of outcome.error?.message.split('\n').slice(1) ?? []) lines.push(`    ${line}`);
  if (outcome.error?.hint) lines.push(`    ${style.dim('hint:')} ${outcome.error.hint}`);
  return lines.join('\n') + '\n';
}
