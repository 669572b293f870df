/**
 * Carries out a plan: one listr2 task per service, all at once. A service that fails does not stop the
 * others; a service whose dev pod does not come up is restored. Every write is conditional on what the plan
 * observed: a 409 re-plans that service and retries only if the same change is still wanted, otherwise the
 * service stops with "plan is stale".
 */
import { Listr } from 'listr2';
import type { AppOutcome } from './run-app.js';
import { NhError } from '../errors.js';
import type { KubeClient } from '../kube/client.js';
import { RolloutWatch, waitForDevPod, waitForDevPodsGone, type WorkloadKind } from '../kube/rollout.js';
import { devPodSelector } from '../kube/pods.js';
import type { KubeObject } from '../model/kube-object.js';
import type { Plan, ServicePlan } from '../plan/types.js';
import { patchLatest, patchStrictly } from './conditional-patch.js';
import { enterCopy, ensureClaim, leaveCopy } from './run-copy.js';
import { sendUserPatches } from './user-patches.js';

export type RendererName = 'default' | 'simple' | 'silent';

export interface ExecuteDeps {
  readonly kube: KubeClient;
  readonly renderer: RendererName;
  /** How long each service may take to have its dev pod ready (or gone, for down). */
  readonly timeoutMs: number;
  readonly signal: AbortSignal;
  /** A fresh plan of one service, from a fresh read of the cluster, with this run's options. */
  readonly replan: (service: string) => Promise<ServicePlan>;
  /** A fresh plan that restores one service (down, forced): used when its dev pod fails. */
  readonly planRestore: (service: string) => Promise<ServicePlan>;
  /** Each service's progress lines, as listr2 shows them (for the session's event stream). */
  readonly onProgress?: (service: string, line: string) => void;
}

/** A run's dependencies plus the rollout watch its services share. */
export interface RunDeps extends ExecuteDeps {
  readonly watch: RolloutWatch;
}

export type OutcomeStatus = 'done' | 'unchanged' | 'failed' | 'restored' | 'stale';

export interface ServiceOutcome {
  readonly service: string;
  readonly action: ServicePlan['action'];
  readonly status: OutcomeStatus;
  /** One line for the summary. */
  readonly summary: string;
  readonly pod?: string;
  readonly error?: NhError;
}

export async function executePlan(plan: Plan, executeDeps: ExecuteDeps): Promise<ServiceOutcome[]> {
  const { services } = await executeRun({ devPlan: async () => plan }, executeDeps);
  return services;
}

/** The app part of a run: carried out first, in the same listr2 view, before the dev-mode plan is made. */
export interface AppStep {
  readonly title: string;
  readonly run: (onProgress: (line: string) => void) => Promise<AppOutcome>;
}

export interface RunOutcomes {
  readonly app: AppOutcome | undefined;
  readonly services: ServiceOutcome[];
}

/**
 * The app step (when given) and then every service at once. The dev-mode plan is made after the app step,
 * from a fresh read, since the workloads it changes may only exist once the app is installed.
 */
export async function executeRun(steps: { app?: AppStep; devPlan?: () => Promise<Plan> }, executeDeps: ExecuteDeps): Promise<RunOutcomes> {
  let app: AppOutcome | undefined;
  let plan: Plan | undefined;
  const outcomes = new Map<string, ServiceOutcome>();
  const watches: RolloutWatch[] = [];
  const options = {
    exitOnError: false,
    registerSignalListeners: false,
    renderer: executeDeps.renderer === 'simple' ? 'default' : executeDeps.renderer,
    fallbackRenderer: 'simple',
    fallbackRendererCondition: executeDeps.renderer === 'simple',
    collectErrors: false,
  } as const;
  const tasks = new Listr<unknown, 'default' | 'silent', 'simple'>([
    {
      title: steps.app?.title ?? 'app',
      enabled: steps.app !== undefined,
      task: async (_ctx, task) => {
        app = await steps.app!.run((line) => void (task.output = line));
        task.title = `app: ${app.summary}`;
        if (app.error) throw app.error;
      },
    },
    {
      title: 'dev mode',
      enabled: steps.devPlan !== undefined,
      // A failed install leaves nothing to put in dev mode.
      skip: () => app?.status === 'failed',
      task: async (_ctx, task) => {
        plan = await steps.devPlan!();
        const deps: RunDeps = { ...executeDeps, watch: new RolloutWatch(executeDeps.kube, plan.namespace) };
        watches.push(deps.watch);
        const services = plan.services;
        deps.watch.warm(services.filter((s) => s.action === 'enter' || s.action === 'update').map((s) => s.workload.kind as WorkloadKind));
        task.title = `dev mode: ${services.length} service${services.length === 1 ? '' : 's'}`;
        return task.newListr(
          services.map((service) => ({
            title: `${service.service}: ${service.action} — ${service.reason}`,
            skip: () => service.action === 'noop',
            task: async (_c, sub) => {
              const outcome = await runService(plan!.namespace, service, deps, (line) => {
                sub.output = line;
                deps.onProgress?.(service.service, line);
              });
              outcomes.set(service.service, outcome);
              sub.title = `${service.service}: ${outcome.summary}`;
              if (outcome.error) throw outcome.error;
            },
          })),
          { concurrent: true, exitOnError: false },
        );
      },
    },
  ], { ...options, concurrent: false });
  try {
    await tasks.run();
  } finally {
    for (const watch of watches) watch.close();
  }
  const services = (plan?.services ?? []).map((s) => outcomes.get(s.service) ?? { service: s.service, action: s.action, status: 'unchanged' as const, summary: s.reason });
  return { app, services };
}

async function runService(namespace: string, plan: ServicePlan, deps: RunDeps, progress: (line: string) => void): Promise<ServiceOutcome> {
  const base = { service: plan.service, action: plan.action };
  if (plan.action === 'noop') return { ...base, status: 'unchanged', summary: plan.reason };
  if (plan.action === 'error' || plan.action === 'conflict') {
    const problem = plan.problem!;
    return { ...base, status: 'failed', summary: problem.message, error: new NhError(problem.code, problem.message, { hint: problem.hint }) };
  }
  try {
    return plan.action === 'leave' ? await leave(namespace, plan, deps, progress) : await enter(namespace, plan, deps, progress);
  } catch (error) {
    const nh = asNhError(error);
    return { ...base, status: nh.code === 'NH_PLAN_STALE' ? 'stale' : 'failed', summary: nh.message.split('\n')[0]!, error: nh };
  }
}

async function enter(namespace: string, plan: ServicePlan, deps: RunDeps, progress: (line: string) => void): Promise<ServiceOutcome> {
  const base = { service: plan.service, action: plan.action };
  for (const claim of plan.volumeClaims) await ensureClaim(deps.kube, namespace, claim);
  try {
    const pod = plan.copy ? await enterCopy(namespace, plan, deps, progress) : await enterInPlace(namespace, plan, deps, progress);
    return { ...base, status: 'done', summary: `${plan.action === 'enter' ? 'in dev mode' : 'updated'}, pod ${pod} ready`, pod };
  } catch (error) {
    const cause = asNhError(error);
    if (cause.code === 'NH_PLAN_STALE') throw cause;
    progress(`${cause.message.split('\n')[0]}; restoring`);
    await restore(namespace, plan.service, deps, progress).catch((restoreError: unknown) => {
      throw new NhError('NH_RESTORE_FAILED', `${cause.message}\nand restoring it failed too: ${asNhError(restoreError).message}`, {
        hint: 'run `nh down` for this service once the cause is fixed', cause: restoreError,
      });
    });
    return {
      ...base,
      status: 'restored',
      summary: `failed and was restored to its original: ${cause.message.split('\n')[0]}`,
      error: new NhError(cause.code, `${cause.message}\n${plan.workload.kind} \`${plan.workload.name}\` was restored to its original`, { hint: cause.hint, cause }),
    };
  }
}

/** Holds the HPAs, patches the workload, waits for its dev pod; returns the pod's name. */
async function enterInPlace(namespace: string, plan: ServicePlan, deps: RunDeps, progress: (line: string) => void): Promise<string> {
  for (const hpa of plan.hpaPatches) {
    progress(`holding HPA ${hpa.name} at one replica`);
    await patchStrictly(deps, namespace, hpa, async () => (await deps.replan(plan.service)).hpaPatches.find((p) => p.name === hpa.name));
  }
  let patched: KubeObject | undefined;
  if (plan.workloadPatch) {
    progress(`patching ${plan.workload.kind} ${plan.workload.name}`);
    patched = await patchStrictly(deps, namespace, plan.workloadPatch, async () => (await deps.replan(plan.service)).workloadPatch);
  }
  let workload = patched ?? (await deps.kube.get(plan.workload.kind as 'Deployment', namespace, plan.workload.name));
  if (!workload) throw new NhError('NH_WORKLOAD_NOT_FOUND', `${plan.workload.kind} \`${plan.workload.name}\` disappeared`);
  if (plan.userPatches) workload = await sendUserPatches(deps, namespace, { kind: plan.workload.kind as 'Deployment', name: plan.workload.name }, plan.userPatches, workload, progress);
  progress('waiting for the dev pod to be ready');
  return waitForDevPod(deps.watch, { ...workload, kind: plan.workload.kind }, { timeoutMs: deps.timeoutMs, signal: deps.signal, onProgress: progress });
}

async function leave(namespace: string, plan: ServicePlan, deps: RunDeps, progress: (line: string) => void): Promise<ServiceOutcome> {
  const base = { service: plan.service, action: plan.action };
  await restoreWith(namespace, plan, deps, progress, true);
  const verify = await deps.replan(plan.service);
  if (verify.action !== 'noop') {
    throw new NhError('NH_RESTORE_FAILED', `${plan.workload.kind} \`${plan.workload.name}\` still differs from its original after restoring (${verify.fields.join(', ')})`, {
      hint: 'run `nh down` again; `nh plan` shows what differs',
    });
  }
  return { ...base, status: 'done', summary: 'restored to its original' };
}

/** Restore after a failed enter: from a fresh read, whatever changed meanwhile (nh's own write). */
async function restore(namespace: string, service: string, deps: RunDeps, progress: (line: string) => void): Promise<void> {
  const plan = await deps.planRestore(service);
  if (plan.action === 'leave') await restoreWith(namespace, plan, deps, progress, false);
}

async function restoreWith(namespace: string, plan: ServicePlan, deps: RunDeps, progress: (line: string) => void, strict: boolean): Promise<void> {
  if (plan.copy) return leaveCopy(namespace, plan, deps, progress, strict);
  const refresh = () => (strict ? deps.replan : deps.planRestore)(plan.service);
  let restored: KubeObject | undefined;
  if (plan.workloadPatch) {
    progress(`restoring ${plan.workload.kind} ${plan.workload.name}`);
    restored = await (strict
      ? patchStrictly(deps, namespace, plan.workloadPatch, async () => (await refresh()).workloadPatch)
      : patchLatest(deps, namespace, plan.workloadPatch, async () => (await refresh()).workloadPatch));
  }
  // Right after the workload: an HPA still held at one replica would scale the restored workload back down.
  for (const hpa of plan.hpaPatches) {
    progress(`restoring HPA ${hpa.name}`);
    await patchLatest(deps, namespace, hpa, async () => (await refresh()).hpaPatches.find((p) => p.name === hpa.name));
  }
  if (!restored) return;
  const workload = { ...restored, kind: plan.workload.kind };
  // A StatefulSet replaces neither a pod that never became ready nor, with OnDelete, any pod: delete them.
  if (plan.workload.kind === 'StatefulSet') await deleteDevPods(deps.kube, namespace, workload);
  progress('waiting for the dev pod to go');
  await waitForDevPodsGone(deps.watch, workload, { timeoutMs: deps.timeoutMs, signal: deps.signal, onProgress: progress });
}

async function deleteDevPods(kube: KubeClient, namespace: string, workload: KubeObject): Promise<void> {
  const selector = devPodSelector(workload);
  if (!selector) return;
  const pods = await kube.list('Pod', namespace, { labelSelector: selector });
  await Promise.all(pods.items.map((p) => kube.delete('Pod', namespace, p.metadata.name)));
}

function asNhError(error: unknown): NhError {
  return error instanceof NhError ? error : new NhError('NH_INTERNAL', error instanceof Error ? error.message : String(error), { cause: error });
}
