/** `nh plan`: what `nh up` would change (the app, then dev mode), and why. --detailed-exitcode: 0 nothing to do, 2 changes, 1 errors. */
import { flag, type ParsedCommandLine } from '../args.js';
import type { CliContext } from '../context.js';
import { hasChanges, hasProblems } from '../../plan/types.js';
import { appHasChanges } from '../../plan/app-types.js';
import { appPlanJson, planJson, renderAppPlanText, renderPlanText } from '../render/plan.js';
import { planAppFor } from './app-session.js';
import { openDevSession, outputFormat } from './dev-session.js';

export async function runPlan(ctx: CliContext, args: ParsedCommandLine): Promise<number> {
  const format = outputFormat(args);
  const session = await openDevSession(ctx, args, 'up');
  try {
    const app = flag(args.options, 'no-install') ? undefined : await planAppFor({ ctx, args, config: session.config, kube: session.kube }, 'install');
    const plan = await session.plan(app);
    if (format === 'json') {
      ctx.terminal.out(JSON.stringify({ ...(app ? { app: appPlanJson(app) } : {}), ...(planJson(plan) as object) }, null, 2) + '\n');
    } else {
      ctx.terminal.out((app ? renderAppPlanText(app, ctx.style) : '') + renderPlanText(plan, ctx.style));
    }
    if (hasProblems(plan) || app?.action === 'error') return 1;
    return flag(args.options, 'detailed-exitcode') && (hasChanges(plan) || appHasChanges(app)) ? 2 : 0;
  } finally {
    session.kube.close();
  }
}
