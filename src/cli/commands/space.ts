/**
 * `nh space …`: dev spaces for a team, with no server of nh's own (the cluster is the store). create, kubeconfig,
 * share, unshare, list, show, delete, reset. Admin actions run with the admin's kubeconfig; a member's kubeconfig
 * lists the member's spaces.
 */
import { writeFileSync, statSync, chmodSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { NhError, UsageError } from '../../errors.js';
import type { KubeClient } from '../../kube/client.js';
import { executeAppPlan } from '../../execute/run-app.js';
import { executeRun } from '../../execute/run-plan.js';
import { observeState } from '../../kube/observe.js';
import { observeApp } from '../../kube/observe-app.js';
import { planApp } from '../../plan/app-planner.js';
import { planLeaveAll } from '../../plan/planner.js';
import type { ServicePlan } from '../../plan/types.js';
import { formatQuantity, parseQuantity } from '../../model/quantity.js';
import { addMember, createSpace, deleteSpace, getSpace, listSpaces, memberToken, removeMember, type SpaceSummary } from '../../space/operations.js';
import { APP_CONFIG_ANNOTATION, SPACE_DEFAULTS, dnsLabelProblem, limitsProblems, memberKubeconfig } from '../../space/spec.js';
import { clusterOptions, flag, stringOption, type ParsedCommandLine } from '../args.js';
import { loadAppConfig } from '../app-config.js';
import type { CliContext } from '../context.js';
import { parseDuration } from '../duration.js';
import { renderAppOutcome, renderOutcomes } from '../render/outcomes.js';
import { renderAppPlanProblems } from '../render/plan.js';
import { planAppFor } from './app-session.js';
import { rendererFor, timeoutOf } from './dev-session.js';

const VERBS = ['create', 'kubeconfig', 'share', 'unshare', 'list', 'show', 'delete', 'reset'] as const;
const DEFAULT_TTL = '720h';

export async function runSpace(ctx: CliContext, args: ParsedCommandLine): Promise<number> {
  const [verb, name, ...extra] = args.positionals;
  if (!verb || !(VERBS as readonly string[]).includes(verb)) throw new UsageError(`name what to do: \`nh space ${VERBS.join('|')}\``, 'run `nh space --help`');
  if (verb !== 'list' && !name) throw new UsageError(`name the space: \`nh space ${verb} NAME\``, 'run `nh space --help`');
  if (extra.length) throw new UsageError(`unexpected \`${extra.join(' ')}\``, 'run `nh space --help`');
  if (name) invalidIf([dnsLabelProblem('the space name', name)]);
  const kube = await ctx.kube(adminOptions(args));
  try {
    switch (verb as (typeof VERBS)[number]) {
      case 'create': return await create(ctx, args, kube, name!);
      case 'kubeconfig': return await kubeconfig(ctx, args, kube, name!);
      case 'share': {
        const member = memberOf(args, 'with');
        const role = stringOption(args.options, 'role') ?? 'edit';
        if (role !== 'edit' && role !== 'view') throw new NhError('NH_SPACE_INVALID', `--role must be edit or view, not \`${role}\``, { hint: 'edit: develop (dev mode, sync, exec); view: read and logs' });
        await getSpace(kube, name!);
        await addMember(kube, name!, member, role);
        ctx.terminal.out(`space ${name}: ${member} can now ${role === 'edit' ? 'develop in it' : 'view it'}; \`nh space kubeconfig ${name} --member ${member}\` gives them a kubeconfig\n`);
        return 0;
      }
      case 'unshare': {
        const member = memberOf(args, 'with');
        await getSpace(kube, name!);
        await removeMember(kube, name!, member);
        ctx.terminal.out(`space ${name}: ${member} removed\n`);
        return 0;
      }
      case 'list':
      case 'show': {
        const spaces = await listSpaces(kube, name);
        if (verb === 'show' && spaces.length === 0) await getSpace(kube, name!);
        const json = (stringOption(args.options, 'output') ?? 'text') === 'json';
        ctx.terminal.out(json ? JSON.stringify(verb === 'show' ? spaces[0] : { spaces }, null, 2) + '\n' : verb === 'show' ? renderShow(spaces[0]!) : renderList(spaces));
        return 0;
      }
      case 'delete': return await remove(ctx, args, kube, name!);
      case 'reset': return await reset(ctx, args, kube, name!);
    }
  } finally {
    kube.close();
  }
}

async function create(ctx: CliContext, args: ParsedCommandLine, kube: KubeClient, name: string): Promise<number> {
  const owner = stringOption(args.options, 'owner');
  if (!owner) throw new UsageError('--owner ID is required', 'run `nh space --help`');
  const text = {
    cpu: stringOption(args.options, 'cpu') ?? SPACE_DEFAULTS.cpu, memory: stringOption(args.options, 'memory') ?? SPACE_DEFAULTS.memory,
    pods: stringOption(args.options, 'pods') ?? String(SPACE_DEFAULTS.pods), storage: stringOption(args.options, 'storage') ?? SPACE_DEFAULTS.storage,
  };
  invalidIf([dnsLabelProblem('--owner', owner), ...limitsProblems(text)]);
  const appConfig = appConfigPath(ctx, stringOption(args.options, 'app'));
  // The config is read (and found valid) before the space exists, so a bad one changes nothing.
  const config = appConfig ? loadAppConfig(ctx, { file: [appConfig] }) : undefined;
  await createSpace(kube, { name, owner, limits: { ...text, pods: Number(text.pods) }, createdBy: ctx.identity, appConfig });
  ctx.terminal.out(`space ${name} created for ${owner} (cpu ${text.cpu}, memory ${text.memory}, pods ${text.pods}, storage ${text.storage})\n`);
  if (!config) return 0;
  return installInto(ctx, args, name, config, appConfig!);
}

async function installInto(ctx: CliContext, args: ParsedCommandLine, space: string, config: ReturnType<typeof loadAppConfig>, configPath: string): Promise<number> {
  const kube = await ctx.kube({ ...clusterOptions(args.options), namespace: space });
  try {
    const plan = await planAppFor({ ctx, args: { ...args, options: { ...args.options, file: [configPath] } }, config, kube }, 'install');
    if (!plan) throw new NhError('NH_APP_NOT_INSTALLED', `${configPath} does not say how to install the app (no application.manifestType)`, { hint: 'add application.manifestType and resourcePath' });
    if (plan.action === 'error') {
      ctx.terminal.err(renderAppPlanProblems(plan, ctx.style));
      return 1;
    }
    const abort = new AbortController();
    const { app } = await executeRun({
      app: { title: `app ${plan.app} in space ${space}: ${plan.action}`, run: (onProgress) => executeAppPlan(plan, { kube, timeoutMs: timeoutOf(args), signal: abort.signal, onProgress, skipReady: new Set(), endpoint: () => ctx.execEndpoint({ ...clusterOptions(args.options), namespace: space }) }) },
    }, { kube, renderer: rendererFor(ctx), timeoutMs: timeoutOf(args), signal: abort.signal, replan: () => Promise.reject(new Error('no services')), planRestore: () => Promise.reject(new Error('no services')) });
    if (app) ctx.terminal.out(renderAppOutcome(app, ctx.style));
    return app?.status === 'failed' ? 1 : 0;
  } finally {
    kube.close();
  }
}

async function kubeconfig(ctx: CliContext, args: ParsedCommandLine, kube: KubeClient, space: string): Promise<number> {
  const member = memberOf(args, 'member');
  const seconds = Math.round(parseDuration(stringOption(args.options, 'ttl') ?? DEFAULT_TTL, 'ttl') / 1000);
  const { token, expires } = await memberToken(kube, space, member, seconds);
  const text = memberKubeconfig(space, member, kube.server, token);
  const out = stringOption(args.options, 'out');
  if (!out) {
    // Asked for on stdout: the only place nh ever shows a token.
    ctx.terminal.out(text);
    return 0;
  }
  const path = resolve(ctx.cwd, out);
  writeFileSync(path, text, { mode: 0o600 });
  chmodSync(path, 0o600); // an existing file keeps its mode on write
  ctx.terminal.out(`wrote ${ctx.files.display(path)} (mode 0600) for ${member} in space ${space}, valid until ${expires}\n`);
  return 0;
}

async function remove(ctx: CliContext, args: ParsedCommandLine, kube: KubeClient, space: string): Promise<number> {
  await getSpace(kube, space);
  if (!flag(args.options, 'yes')) {
    if (!ctx.terminal.interactive) throw new UsageError(`deleting space \`${space}\` removes everything in it; pass --yes to confirm`);
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    const answer = await rl.question(`Delete space ${space} and everything in it? Type its name to confirm: `);
    rl.close();
    if (answer.trim() !== space) {
      ctx.terminal.out('not deleted\n');
      return 1;
    }
  }
  await deleteSpace(kube, space, timeoutOf(args));
  ctx.terminal.out(`space ${space} deleted\n`);
  return 0;
}

/** "My space is broken": every service leaves dev mode, the app is uninstalled and installed again. */
async function reset(ctx: CliContext, args: ParsedCommandLine, admin: KubeClient, space: string): Promise<number> {
  const ns = await getSpace(admin, space);
  const configPath = appConfigPath(ctx, stringOption(args.options, 'app')) ?? ns.metadata.annotations?.[APP_CONFIG_ANNOTATION];
  const config = configPath ? loadAppConfig(ctx, { file: [configPath] }) : undefined;
  const kube = await ctx.kube({ ...clusterOptions(args.options), namespace: space });
  const abort = new AbortController();
  try {
    const options = { mode: 'down' as const, identity: ctx.identity, now: ctx.now().toISOString(), nhVersion: ctx.version, force: true };
    const observe = () => observeState(kube, space, { services: [] }, { findRemoved: true });
    // A service no longer in dev mode has nothing left to do: that is what the check after restoring wants to see.
    const replan = async (service: string): Promise<ServicePlan> => planLeaveAll(await observe(), options).services.find((s) => s.service === service)
      ?? { service, workload: { kind: 'Deployment', name: service }, action: 'noop', reason: 'not in dev mode', fields: [], volumeClaims: [], hpaPatches: [], workloadPatch: undefined };
    const initial = planLeaveAll(await observe(), options);
    const { services } = await executeRun({ devPlan: async () => initial }, {
      kube, renderer: rendererFor(ctx), timeoutMs: timeoutOf(args), signal: abort.signal, replan, planRestore: replan,
    });
    if (services.length) ctx.terminal.out(renderOutcomes(services, ctx.style));
    const appName = config?.name;
    if (appName) {
      const uninstall = planApp(appName, undefined, await observeApp(kube, space, appName, undefined, { dryRun: false }), { mode: 'uninstall', identity: ctx.identity, now: ctx.now().toISOString(), nhVersion: ctx.version });
      const outcome = await executeAppPlan(uninstall, { kube, timeoutMs: timeoutOf(args), signal: abort.signal, onProgress: () => undefined, skipReady: new Set(), endpoint: () => ctx.execEndpoint({ ...clusterOptions(args.options), namespace: space }) });
      ctx.terminal.out(renderAppOutcome(outcome, ctx.style));
      if (outcome.status === 'failed') return 1;
      return await installInto(ctx, args, space, config, configPath!);
    }
    ctx.terminal.out(`space ${space}: no app config recorded; pass --app CONFIG to reinstall one\n`);
    return services.every((s) => s.status === 'done' || s.status === 'unchanged') ? 0 : 1;
  } finally {
    abort.abort();
    kube.close();
  }
}

function memberOf(args: ParsedCommandLine, option: 'owner' | 'member' | 'with'): string {
  const id = stringOption(args.options, option);
  if (!id) throw new UsageError(`--${option} ID is required`, 'run `nh space --help`');
  // The id names a ServiceAccount and labels: a DNS-1123 label.
  invalidIf([dnsLabelProblem(`--${option}`, id)]);
  return id;
}

function invalidIf(problems: readonly (string | undefined)[]): void {
  const found = problems.filter((p): p is string => p !== undefined);
  if (found.length) throw new NhError('NH_SPACE_INVALID', found.join('\n'), { hint: 'nothing was changed; fix the values and run again' });
}

/** `--app DIR` (holding .nocalhost/) or `--app FILE`, absolute, as recorded on the space for `reset`. */
function appConfigPath(ctx: CliContext, app: string | undefined): string | undefined {
  if (!app) return undefined;
  const path = isAbsolute(app) ? app : resolve(ctx.cwd, app);
  try {
    return statSync(path).isDirectory() ? join(path, '.nocalhost', 'config.yaml') : path;
  } catch {
    throw new NhError('NH_CONFIG_NOT_FOUND', `--app ${app}: no such file or directory`, { hint: 'name the app config file or the directory holding .nocalhost/' });
  }
}

/** Spaces name their namespaces: -n does not apply to the admin's client. */
function adminOptions(args: ParsedCommandLine) {
  return { ...clusterOptions(args.options), namespace: undefined };
}

function quotaLine(s: SpaceSummary): string {
  const show = (key: string) => {
    const q = s.quota[key];
    if (!q) return undefined;
    const used = parseQuantity(q.used) ?? 0;
    return `${key.replace('requests.', '')} ${formatQuantity(used, key)}/${q.hard}`;
  };
  return ['requests.cpu', 'requests.memory', 'pods'].map(show).filter(Boolean).join(', ') || '-';
}

function renderList(spaces: readonly SpaceSummary[]): string {
  if (spaces.length === 0) return 'no spaces\n';
  const rows = spaces.map((s) => [s.name, s.owner, s.members ? String(s.members.length) : '-', quotaLine(s), s.apps.map((a) => `${a.name} (${a.status})`).join(', ') || '-',
    s.devServices.map((d) => `${d.workload.split('/')[1]} by ${d.owner}`).join(', ') || '-']);
  const header = ['SPACE', 'OWNER', 'MEMBERS', 'QUOTA USED/LIMIT', 'APPS', 'IN DEV MODE'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  return [line(header), ...rows.map(line), ''].join('\n');
}

function renderShow(s: SpaceSummary): string {
  return [
    `space ${s.name}`,
    `  owner:       ${s.owner}`,
    `  members:     ${s.members ? s.members.map((m) => `${m.id} (${m.role})`).join(', ') : '(only admins see them)'}`,
    `  quota:       ${Object.entries(s.quota).map(([k, q]) => `${k} ${q.used}/${q.hard}`).join(', ') || '-'}`,
    `  apps:        ${s.apps.map((a) => `${a.name} ${a.status}, revision ${a.revision}`).join('; ') || '-'}`,
    `  in dev mode: ${s.devServices.map((d) => `${d.workload} by ${d.owner} since ${d.since}`).join('; ') || '-'}`,
    '',
  ].join('\n');
}
