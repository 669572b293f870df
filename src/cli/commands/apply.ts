/** `nh up --detach` and `nh down`: plan from a fresh read, carry it out, report per service. */
import { NhError } from '../../errors.js';
import { executePlan } from '../../execute/run-plan.js';
import { flag, type ParsedCommandLine } from '../args.js';
import type { CliContext } from '../context.js';
import { renderOutcomes } from '../render/outcomes.js';
import { openDevSession, rendererFor, timeoutOf } from './dev-session.js';

export async function runUp(ctx: CliContext, args: ParsedCommandLine): Promise<number> {
  if (!flag(args.options, 'detach')) {
    throw new NhError('NH_NOT_IMPLEMENTED', 'foreground `nh up` (sync, run, port forwards, logs) is not built yet; only `nh up --detach` works so far', {
      hint: 'run `nh up --detach` to put the services in dev mode and return',
    });
  }
  return apply(ctx, args, 'up');
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
