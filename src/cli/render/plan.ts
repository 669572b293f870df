/** `nh plan` views: a table for people, JSON for tools. */
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
