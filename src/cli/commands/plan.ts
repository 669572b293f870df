/** `nh plan`: what `nh up` would change, and why. --detailed-exitcode: 0 nothing to do, 2 changes, 1 errors. */
import { flag, type ParsedCommandLine } from '../args.js';
import type { CliContext } from '../context.js';
import { hasChanges, hasProblems } from '../../plan/types.js';
import { planJson, renderPlanText } from '../render/plan.js';
import { openDevSession, outputFormat } from './dev-session.js';

export async function runPlan(ctx: CliContext, args: ParsedCommandLine): Promise<number> {
  const format = outputFormat(args);
  const session = await openDevSession(ctx, args, 'up');
  try {
    const plan = await session.plan();
    ctx.terminal.out(format === 'json' ? JSON.stringify(planJson(plan), null, 2) + '\n' : renderPlanText(plan, ctx.style));
    if (hasProblems(plan)) return 1;
    return flag(args.options, 'detailed-exitcode') && hasChanges(plan) ? 2 : 0;
  } finally {
    session.kube.close();
  }
}
