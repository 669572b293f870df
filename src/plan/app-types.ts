/** The app part of a plan: install, upgrade or uninstall, with one entry per resource, each with a reason. */
import type { HookPhase } from '../config/model.js';
import type { DependencyWaits } from '../config/model.js';
import type { ApiResource } from '../kube/client.js';
import type { AppRecord } from '../model/app-record.js';
import type { KubeObject } from '../model/kube-object.js';
import type { PlanProblem } from './types.js';

export type AppAction = 'install' | 'upgrade' | 'uninstall' | 'noop' | 'error';
export type ResourceAction = 'create' | 'update' | 'prune' | 'noop' | 'held' | 'keep';

export interface ResourceChange {
  readonly key: string;
  readonly kind: string;
  readonly name: string;
  readonly namespace: string | undefined;
  readonly action: ResourceAction;
  readonly reason: string;
  /** For update: the fields a server-side dry run says would change. */
  readonly fields: readonly string[];
  readonly resource: ApiResource | undefined;
  /** What to apply (create, update), with the namespace set. */
  readonly object?: KubeObject;
  readonly tier: number;
  readonly waitFor?: { readonly service: string; readonly waits: DependencyWaits };
}

export interface AppPlan {
  readonly app: string;
  readonly namespace: string;
  readonly action: AppAction;
  readonly reason: string;
  readonly problems: readonly PlanProblem[];
  readonly resources: readonly ResourceChange[];
  /** Hook Jobs to run before and after the resources change, in order. */
  readonly hooks: { readonly before: readonly KubeObject[]; readonly after: readonly KubeObject[]; readonly phases: readonly [HookPhase | undefined, HookPhase | undefined] };
  /** The record's resourceVersion as read: every record write is conditional on it. */
  readonly recordVersion: string | undefined;
  readonly previous: AppRecord | undefined;
  /** The record once the plan has run (status installed). */
  readonly next: AppRecord | undefined;
}

export function appHasChanges(plan: AppPlan | undefined): boolean {
  return plan !== undefined && (plan.action === 'install' || plan.action === 'upgrade' || plan.action === 'uninstall');
}
