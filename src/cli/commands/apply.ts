/** `nh up --detach` and `nh down`: plan from a fresh read, carry it out, report per service. */
import { executePlan } from '../../execute/run-plan.js';
import { flag, type ParsedCommandLine } from '../args.js';
import type { CliContext } from '../context.js';
import { renderOutcomes } from '../render/outcomes.js';
import { openDevSession, rendererFor, timeoutOf } from './dev-session.js';

export async function runUp(ctx: CliContext, args: ParsedCommandLine): Promise<number> {
  const entered = await apply(ctx, args, 'up');
  if (flag(args.options, 'detach') || entered !== 0) return entered;
  // Foreground (src/cli/commands/up-foreground.ts): run, sync, forward and stream until Ctrl-C.
  const code = await (await import('./up-foreground.js')).runForeground(ctx, args);
  if (!flag(args.options, 'down-on-exit')) return code;
  const restored = await apply(ctx, args, 'down');
  return code || restored;
}

export async function runDown(ctx: CliContext, args: ParsedCommandLine): Promise<number> {
  return apply(ctx, args, 'down');
}

async function apply(ctx: CliContext, args: ParsedCommandLine, mode: 'up' | 'down'): Promise<number> {
  const timeoutMs = timeoutOf(args);
  const session = await openDevSession(ctx, args, mode);
  const abort = new AbortController();
  try {
    const plan = await session.plan();
    const outcomes = await executePlan(plan, {
      kube: session.kube,
      renderer: rendererFor(ctx),
      timeoutMs,
      signal: abort.signal,
      replan: (service) => session.planService(service),
      planRestore: (service) => session.planService(service, true),
    });
    ctx.terminal.out(renderOutcomes(outcomes, ctx.style));
    return outcomes.every((o) => o.status === 'done' || o.status === 'unchanged') ? 0 : 1;
  } finally {
    abort.abort();
    session.kube.close();
  }
}
