/**
 * What plan, up, down and status share: config → desired state, the cluster client and namespace, and
 * planning from a fresh read of the cluster (also per service, for re-planning during execution).
 */
import { buildDesiredState, type DesiredState } from '../../desired/build.js';
import type { KubeClient } from '../../kube/client.js';
import { observeService, observeState } from '../../kube/observe.js';
import { planChanges, type PlanOptions } from '../../plan/planner.js';
import type { Plan, ServicePlan } from '../../plan/types.js';
import type { AppPlan } from '../../plan/app-types.js';
import type { AppConfig } from '../../config/model.js';
import type { ObservedState } from '../../model/observed.js';
import { UsageError } from '../../errors.js';
import { clusterOptions, flag, stringOption, type ParsedCommandLine } from '../args.js';
import { loadAppConfig } from '../app-config.js';
import type { CliContext } from '../context.js';
import { parseDuration } from '../duration.js';
import type { RendererName } from '../../execute/run-plan.js';

export interface DevSession {
  readonly config: AppConfig;
  readonly kube: KubeClient;
  readonly namespace: string;
  readonly desired: DesiredState;
  readonly options: PlanOptions;
  /** Duplicate mode: the identity whose dev copies this session works on. */
  readonly duplicateFor: string | undefined;
  /**
   * A plan of every selected service from a fresh read of the cluster. With the app's plan, a workload it
   * would create is planned as it will be (so `nh plan` shows dev mode on an empty namespace too).
   */
  plan(app?: AppPlan): Promise<Plan>;
  /** A plan of one service from a fresh read; `restore` plans its leave whoever owns it. */
  planService(service: string, restore?: boolean): Promise<ServicePlan>;
}

export const DEFAULT_TIMEOUT_MS = 5 * 60_000;

export async function openDevSession(ctx: CliContext, args: ParsedCommandLine, mode: PlanOptions['mode']): Promise<DevSession> {
  const config = loadAppConfig(ctx, args.options);
  const desired = buildDesiredState(config, args.positionals);
  const kube = await ctx.kube(clusterOptions(args.options));
  const namespace = kube.namespace;
  const duplicate = flag(args.options, 'duplicate');
  const duplicateFor = duplicate ? ctx.identity : undefined;
  const options: PlanOptions = { mode, identity: ctx.identity, now: ctx.now().toISOString(), nhVersion: ctx.version, force: flag(args.options, 'force'), duplicate };
  return {
    config,
    kube,
    namespace,
    desired,
    options,
    duplicateFor,
    plan: async (app) => planChanges(desired, withPending(await observeState(kube, namespace, desired, { findRemoved: desired.wholeApp && !duplicate, duplicateFor }), desired, app), options),
    planService: async (name, restore = false) => {
      const service = desired.services.find((s) => s.name === name);
      if (!service) return removedServicePlan(kube, namespace, desired, options, name, restore);
      const only: DesiredState = { ...desired, services: [service], wholeApp: false };
      const plan = planChanges(only, await observeService(kube, namespace, service, duplicateFor), restore ? { ...options, mode: 'down', force: true } : options);
      return plan.services[0]!;
    },
  };
}

/** Workloads the app's plan creates stand in for the missing ones, as the API server will return them. */
function withPending(observed: ObservedState, desired: DesiredState, app: AppPlan | undefined): ObservedState {
  if (!app) return observed;
  const services = new Map(observed.services);
  for (const [name, seen] of services) {
    const workload = desired.services.find((s) => s.name === name)?.workload;
    if (seen.workload || !workload) continue;
    const created = app.resources.find((r) => r.action === 'create' && r.kind === workload.kind && r.name === workload.name);
    if (created?.object) services.set(name, { service: name, workload: { ...created.object, metadata: { ...created.object.metadata, resourceVersion: '' } }, hpas: [] });
  }
  return { ...observed, services };
}

/** A service removed from the config only shows up in a whole-app plan; re-plan it the same way. */
async function removedServicePlan(kube: KubeClient, namespace: string, desired: DesiredState, options: PlanOptions, name: string, restore: boolean): Promise<ServicePlan> {
  const observed = await observeState(kube, namespace, desired, { findRemoved: true });
  const plan = planChanges({ ...desired, services: [] }, observed, restore ? { ...options, force: true } : options);
  const found = plan.services.find((s) => s.service === name);
  if (found) return found;
  return { service: name, workload: { kind: 'Deployment', name }, action: 'noop', reason: 'not in dev mode', fields: [], volumeClaims: [], hpaPatches: [], workloadPatch: undefined };
}

export function timeoutOf(args: ParsedCommandLine): number {
  const text = stringOption(args.options, 'timeout');
  return text === undefined ? DEFAULT_TIMEOUT_MS : parseDuration(text, 'timeout');
}

/** The live renderer on a terminal, one line per event otherwise (CI logs, pipes). */
export function rendererFor(ctx: CliContext): RendererName {
  return ctx.terminal.interactive ? 'default' : 'simple';
}

export function outputFormat(args: ParsedCommandLine): 'text' | 'json' {
  const output = stringOption(args.options, 'output') ?? 'text';
  if (output !== 'text' && output !== 'json') throw new UsageError(`-o must be text or json, not \`${output}\``);
  return output;
}
