/** `nh plan` views: a table for people, JSON for tools. */
import type { AppPlan, ResourceAction } from '../../plan/app-types.js';
import type { Plan, PlanAction, ServicePlan } from '../../plan/types.js';
import type { Style } from '../terminal.js';

const ACTIONS: readonly PlanAction[] = ['enter', 'update', 'leave', 'noop', 'conflict', 'error'];

export function renderPlanText(plan: Plan, style: Style): string {
  const color: Record<PlanAction, (s: string) => string> = {
    enter: style.green, update: style.yellow, leave: style.yellow, noop: style.dim, conflict: style.red, error: style.red,
  };
  const rows = plan.services.map((s) => ({ s, workload: `${s.workload.kind}/${s.workload.name}` }));
  const serviceWidth = Math.max('SERVICE'.length, ...rows.map((r) => r.s.service.length));
  const workloadWidth = Math.max('WORKLOAD'.length, ...rows.map((r) => r.workload.length));
  const indent = ' '.repeat(serviceWidth + 2 + 8 + 2 + workloadWidth + 2);
  const lines = [
    `namespace ${style.bold(plan.namespace)}, as ${plan.identity}`,
    '',
    style.bold(`${'SERVICE'.padEnd(serviceWidth)}  ${'ACTION'.padEnd(8)}  ${'WORKLOAD'.padEnd(workloadWidth)}  REASON`),
  ];
  for (const { s, workload } of rows) {
    lines.push(`${s.service.padEnd(serviceWidth)}  ${color[s.action](s.action.padEnd(8))}  ${workload.padEnd(workloadWidth)}  ${s.reason}`);
    if (s.fields.length) lines.push(`${indent}${style.dim('changes:')} ${s.fields.join(', ')}`);
    if (s.problem?.hint) lines.push(`${indent}${style.dim('hint:')} ${s.problem.hint}`);
  }
  lines.push('', summaryLine(plan), '');
  return lines.join('\n');
}

export function summaryLine(plan: Plan): string {
  const count = (a: PlanAction) => plan.services.filter((s) => s.action === a).length;
  const words: Record<PlanAction, string> = { enter: 'to enter', update: 'to update', leave: 'to leave', noop: 'unchanged', conflict: 'in conflict', error: 'in error' };
  const parts = ACTIONS.filter((a) => count(a) > 0).map((a) => `${count(a)} ${words[a]}`);
  return `Plan: ${parts.length ? parts.join(', ') : 'no services'}.`;
}

export function planJson(plan: Plan): unknown {
  return {
    namespace: plan.namespace,
    identity: plan.identity,
    createdAt: plan.createdAt,
    services: plan.services.map((s: ServicePlan) => ({
      service: s.service,
      workload: s.workload,
      action: s.action,
      reason: s.reason,
      fields: s.fields,
      ...(s.owner ? { owner: s.owner } : {}),
      ...(s.problem ? { problem: s.problem } : {}),
      observedResourceVersion: s.observedResourceVersion ?? null,
    })),
  };
}

/** The app section of `nh plan`: what the install, upgrade or uninstall would do to each resource. */
export function renderAppPlanText(plan: AppPlan, style: Style): string {
  const color: Record<ResourceAction, (s: string) => string> = {
    create: style.green, update: style.yellow, prune: style.red, held: style.yellow, keep: style.dim, noop: style.dim,
  };
  const lines = [`app ${style.bold(plan.app)}: ${plan.action} — ${plan.reason}`];
  const shown = plan.resources.filter((r) => r.action !== 'noop');
  const names = shown.map((r) => `${r.kind}/${r.name}${r.namespace && r.namespace !== plan.namespace ? ` -n ${r.namespace}` : ''}`);
  const width = Math.max('RESOURCE'.length, ...names.map((n) => n.length));
  if (shown.length) lines.push('', style.bold(`  ${'RESOURCE'.padEnd(width)}  ${'ACTION'.padEnd(7)}  REASON`));
  shown.forEach((r, i) => {
    lines.push(`  ${names[i]!.padEnd(width)}  ${color[r.action](r.action.padEnd(7))}  ${r.reason}${r.waitFor ? `; applied once ${describeWaits(r.waitFor.waits)}` : ''}`);
    if (r.fields.length) lines.push(`  ${' '.repeat(width + 11)}${style.dim('changes:')} ${r.fields.join(', ')}`);
  });
  const unchanged = plan.resources.length - shown.length;
  if (unchanged) lines.push(`  ${style.dim(`${unchanged} resource${unchanged === 1 ? '' : 's'} unchanged`)}`);
  const hooks = [...plan.hooks.before.map((j) => `${plan.hooks.phases[0]} ${j.metadata.name}`), ...plan.hooks.after.map((j) => `${plan.hooks.phases[1]} ${j.metadata.name}`)];
  if (hooks.length) lines.push(`  ${style.dim('hooks:')} ${hooks.join(', ')}`);
  for (const p of plan.problems) {
    lines.push(`  ${style.red('error:')} ${p.message}`);
    if (p.hint) lines.push(`    ${style.dim('hint:')} ${p.hint}`);
  }
  return lines.join('\n') + '\n\n';
}

export function renderAppPlanProblems(plan: AppPlan, style: Style): string {
  const lines = [`${style.red('✖')} app ${plan.app}: ${plan.reason}`];
  for (const p of plan.problems) {
    lines.push(`  ${p.message.split('\n').join('\n  ')}`);
    if (p.hint) lines.push(`    ${style.dim('hint:')} ${p.hint}`);
  }
  return lines.join('\n') + '\n';
}

export function appPlanJson(plan: AppPlan): unknown {
  return {
    app: plan.app,
    namespace: plan.namespace,
    action: plan.action,
    reason: plan.reason,
    revision: plan.previous?.revision ?? null,
    resources: plan.resources.map((r) => ({
      kind: r.kind, name: r.name, namespace: r.namespace ?? null, action: r.action, reason: r.reason, fields: r.fields,
      ...(r.waitFor ? { waitsFor: r.waitFor.waits } : {}),
    })),
    hooks: { before: plan.hooks.before.map((j) => j.metadata.name), after: plan.hooks.after.map((j) => j.metadata.name), phases: plan.hooks.phases },
    problems: plan.problems,
  };
}

function describeWaits(w: { pods: readonly string[]; jobs: readonly string[]; tcp: readonly string[]; http: readonly string[] }): string {
  return [...w.pods.map((s) => `pods ${s} are Ready`), ...w.jobs.map((s) => `jobs ${s} complete`), ...w.tcp.map((a) => `${a} accepts connections`), ...w.http.map((u) => `${u} answers`)].join(' and ');
}
