/**
 * `nh up --detach`, `nh down`, `nh install`, `nh upgrade`, `nh uninstall`: plan from a fresh read, carry it
 * out in one listr2 view (the app first, then every service at once), report per service.
 */
import { executeAppPlan, type AppOutcome } from '../../execute/run-app.js';
import { executePlan, executeRun, type AppStep, type ExecuteDeps, type ServiceOutcome } from '../../execute/run-plan.js';
import { NhError } from '../../errors.js';
import type { AppPlan } from '../../plan/app-types.js';
import { clusterOptions, flag, type ParsedCommandLine } from '../args.js';
import type { CliContext } from '../context.js';
import { renderAppOutcome, renderOutcomes } from '../render/outcomes.js';
import { renderAppPlanProblems } from '../render/plan.js';
import { planAppFor, requireInstall } from './app-session.js';
import { openDevSession, outputFormat, rendererFor, timeoutOf, type DevSession } from './dev-session.js';
import { openUpSession, type UpSession } from './up-session.js';
import { plannedService, serviceInfo } from '../../events/from-session.js';

export async function runUp(ctx: CliContext, args: ParsedCommandLine): Promise<number> {
  const detach = flag(args.options, 'detach');
  if (detach && outputFormat(args) !== 'json') return apply(ctx, args, 'up');
  const session = await openUpSession(ctx, args);
  let code = 1;
  let failure: string | undefined;
  try {
    code = await apply(ctx, args, 'up', session);
    if (code !== 0 || detach) return code;
    // Foreground (src/cli/commands/up-foreground.ts): run, sync, forward and stream until Ctrl-C.
    // Services the page brought into dev mode are restored by --down-on-exit too.
    const entered = new Set<string>();
    const devMode: ServiceDevMode = async (mode, service) => {
      const outcome = await applyToService(ctx, args, mode, service, session);
      if (mode === 'up') entered.add(service);
      return outcome;
    };
    code = await (await import('./up-foreground.js')).runForeground(ctx, args, session, devMode);
    if (!flag(args.options, 'down-on-exit')) return code;
    const selection = args.positionals.length ? [...new Set([...args.positionals, ...entered])] : [];
    const restored = await apply(ctx, { ...args, positionals: selection }, 'down', session);
    return (code = code || restored);
  } catch (error) {
    failure = error instanceof Error ? error.message : String(error);
    throw error;
  } finally {
    const detached = detach && code === 0 ? 'detached: dev mode stays on; `nh down` restores the workloads' : undefined;
    await session.end({ type: 'session-end', reason: failure !== undefined || code !== 0 ? 'failed' : 'stopped', message: failure ?? detached });
  }
}

/** Enters or leaves dev mode for one service while the session runs (the page's actions). */
export type ServiceDevMode = (mode: 'up' | 'down', service: string) => Promise<ServiceOutcome>;

/**
 * One service into or out of dev mode while `nh up` runs: the same plan and execution as `nh up SERVICE
 * --detach` and `nh down SERVICE` (without the app's install, which the session did), reported on the
 * session's stream only.
 */
async function applyToService(ctx: CliContext, args: ParsedCommandLine, mode: 'up' | 'down', service: string, up: UpSession): Promise<ServiceOutcome> {
  const session = await openDevSession(ctx, { ...args, positionals: [service] }, mode);
  const abort = new AbortController();
  try {
    const plan = await session.plan();
    for (const planned of plan.services) up.stream.emit({ type: 'dev-mode', service: planned.service, status: 'progress', message: `${planned.action} — ${plannedService(planned).reason}` });
    const outcomes = await executePlan(plan, { ...executeDeps(ctx, args, session, abort.signal, up), renderer: 'silent' });
    reportOutcomes(up, outcomes);
    return outcomes.find((o) => o.service === service) ?? { service, action: 'noop', status: 'unchanged', summary: 'not in the plan' };
  } finally {
    abort.abort();
    session.kube.close();
  }
}

export async function runDown(ctx: CliContext, args: ParsedCommandLine): Promise<number> {
  return apply(ctx, args, 'down');
}

export async function runInstall(ctx: CliContext, args: ParsedCommandLine): Promise<number> {
  return applyApp(ctx, args, 'install');
}

export async function runUpgrade(ctx: CliContext, args: ParsedCommandLine): Promise<number> {
  return applyApp(ctx, args, 'upgrade');
}

export async function runUninstall(ctx: CliContext, args: ParsedCommandLine): Promise<number> {
  return applyApp(ctx, args, 'uninstall');
}

/** With an `nh up` session, the plan, the app's install and dev mode's progress also go to its event stream (and only there with --output json). */
async function apply(ctx: CliContext, args: ParsedCommandLine, mode: 'up' | 'down', up?: UpSession): Promise<number> {
  const session = await openDevSession(ctx, args, mode);
  const abort = new AbortController();
  try {
    const selected = session.config.services.filter((s) => args.positionals.length === 0 || args.positionals.includes(s.name));
    if (mode === 'up' && up) {
      const debug = flag(args.options, 'debug');
      const others = session.config.services.filter((s) => !selected.includes(s)).map((s) => serviceInfo(s, false));
      up.stream.emit({ type: 'session-start', app: session.config.name, namespace: session.namespace, debug, services: selected.map((s) => serviceInfo(s, debug)), ...(others.length ? { others } : {}), ui: up.uiUrl });
    }
    const installing = mode === 'up' && session.config.install && !flag(args.options, 'no-install');
    const appPlan = installing ? await planAppFor({ ctx, args, config: session.config, kube: session.kube }, 'install') : undefined;
    if (appPlan?.action === 'error') {
      up?.stream.emit({ type: 'app', app: appPlan.app, status: 'failed', message: appPlan.problems.map((p) => p.message).join('\n') });
      return failPlan(ctx, appPlan);
    }
    const devPlan = mode === 'up' ? await session.plan(appPlan) : await session.plan();
    up?.stream.emit({ type: 'plan', app: appPlan && { name: appPlan.app, action: appPlan.action, reason: appPlan.reason }, services: devPlan.services.map(plannedService) });
    const report = up && appPlan ? (line: string) => up.stream.emit({ type: 'app', app: appPlan.app, status: 'progress', message: line }) : undefined;
    const step = appPlan && appPlan.action !== 'noop' ? appStep(ctx, appPlan, session, args, abort.signal, devPlan.services.map((s) => `${s.workload.kind}/${s.workload.name}`), report) : undefined;
    // Without an app step the plan just made is current; after one, dev mode is planned from a fresh read.
    const { app, services } = await executeRun({ ...(step ? { app: step } : {}), devPlan: step ? () => session.plan() : async () => devPlan }, {
      ...executeDeps(ctx, args, session, abort.signal, up),
      renderer: up?.json ? 'silent' : rendererFor(ctx),
    });
    if (up && appPlan) up.stream.emit({ type: 'app', app: appPlan.app, status: app?.status ?? 'unchanged', message: app?.summary ?? appPlan.reason });
    if (up) reportOutcomes(up, services);
    if (up?.json) {
      if (app?.error) up.stream.emit({ type: 'error', code: app.error.code, message: app.error.message, hint: app.error.hint });
      return app?.status === 'failed' || !services.every((o) => o.status === 'done' || o.status === 'unchanged') ? 1 : 0;
    }
    let code = reportApp(ctx, app);
    ctx.terminal.out(renderOutcomes(services, ctx.style));
    if (!services.every((o) => o.status === 'done' || o.status === 'unchanged')) code = 1;
    if (mode === 'down' && flag(args.options, 'uninstall') && code === 0) code = await uninstallWith(ctx, args, session, abort.signal);
    return code;
  } finally {
    abort.abort();
    session.kube.close();
  }
}

/** What carrying out a dev plan needs; progress lines also go to the session's stream. */
function executeDeps(ctx: CliContext, args: ParsedCommandLine, session: DevSession, signal: AbortSignal, up: UpSession | undefined): ExecuteDeps {
  return {
    kube: session.kube,
    renderer: rendererFor(ctx),
    timeoutMs: timeoutOf(args),
    signal,
    replan: (service) => session.planService(service),
    planRestore: (service) => session.planService(service, true),
    onProgress: (service, message) => up?.stream.emit({ type: 'dev-mode', service, status: 'progress', message }),
  };
}

function reportOutcomes(up: UpSession, outcomes: readonly ServiceOutcome[]): void {
  for (const outcome of outcomes) {
    up.stream.emit({ type: 'dev-mode', service: outcome.service, status: outcome.status, message: outcome.summary, pod: outcome.pod });
    if (outcome.error) up.stream.emit({ type: 'error', service: outcome.service, code: outcome.error.code, message: outcome.error.message, hint: outcome.error.hint });
  }
}

async function applyApp(ctx: CliContext, args: ParsedCommandLine, verb: 'install' | 'upgrade' | 'uninstall'): Promise<number> {
  const session = await openDevSession(ctx, args, 'up');
  const abort = new AbortController();
  try {
    if (verb === 'uninstall') return await uninstallWith(ctx, args, session, abort.signal);
    requireInstall(session.config);
    const plan = (await planAppFor({ ctx, args, config: session.config, kube: session.kube }, 'install'))!;
    if (plan.action === 'error') return failPlan(ctx, plan);
    if (verb === 'install' && plan.previous?.status === 'installed') {
      throw new NhError('NH_APP_INSTALLED', `app \`${plan.app}\` is already installed in namespace \`${plan.namespace}\` (revision ${plan.previous.revision})`, { hint: '`nh upgrade` applies what changed; `nh plan` shows it' });
    }
    if (verb === 'upgrade' && !plan.previous) {
      throw new NhError('NH_APP_NOT_INSTALLED', `app \`${plan.app}\` is not installed in namespace \`${plan.namespace}\``, { hint: '`nh install` (or `nh up`) installs it' });
    }
    return await runAppOnly(ctx, args, session, plan, abort.signal);
  } finally {
    abort.abort();
    session.kube.close();
  }
}

async function uninstallWith(ctx: CliContext, args: ParsedCommandLine, session: DevSession, signal: AbortSignal): Promise<number> {
  const plan = (await planAppFor({ ctx, args, config: session.config, kube: session.kube }, 'uninstall'))!;
  if (plan.action === 'noop') {
    ctx.terminal.out(`app ${plan.app}: ${plan.reason}\n`);
    return 0;
  }
  return runAppOnly(ctx, args, session, plan, signal);
}

async function runAppOnly(ctx: CliContext, args: ParsedCommandLine, session: DevSession, plan: AppPlan, signal: AbortSignal): Promise<number> {
  const { app } = await executeRun({ app: appStep(ctx, plan, session, args, signal, []) }, executeDeps(ctx, args, session, signal, undefined));
  return reportApp(ctx, app);
}

/** `report`: the step's progress lines for the session's stream as well. */
function appStep(ctx: CliContext, plan: AppPlan, session: DevSession, args: ParsedCommandLine, signal: AbortSignal, devWorkloads: readonly string[], report?: (line: string) => void): AppStep {
  return {
    title: `app ${plan.app}: ${plan.action} — ${plan.reason}`,
    // Post hooks run against a ready app; without them, dev mode replaces these pods anyway.
    run: (onProgress) => executeAppPlan(plan, {
      kube: session.kube, timeoutMs: timeoutOf(args), signal,
      onProgress: (line) => {
        onProgress(line);
        report?.(line);
      },
      skipReady: new Set(plan.hooks.after.length ? [] : devWorkloads),
      endpoint: () => ctx.execEndpoint(clusterOptions(args.options)),
    }),
  };
}

function reportApp(ctx: CliContext, outcome: AppOutcome | undefined): number {
  if (!outcome) return 0;
  ctx.terminal.out(renderAppOutcome(outcome, ctx.style));
  return outcome.status === 'failed' ? 1 : 0;
}

function failPlan(ctx: CliContext, plan: AppPlan): number {
  ctx.terminal.err(renderAppPlanProblems(plan, ctx.style));
  return 1;
}
