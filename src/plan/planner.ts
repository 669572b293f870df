/**
 * planChanges: desired dev state + observed cluster state → per-service plan. PURE: the identity, the clock
 * and nh's version come in as arguments; no I/O. `up` enters or updates the selected services, `down` restores
 * them; for the whole app both also take out of dev mode the services removed from the config.
 */
import type { DesiredService, DesiredState } from '../desired/build.js';
import { HPA_ORIGINAL_ANNOTATION } from '../model/dev-mode.js';
import type { JsonPatchOp, KubeObject } from '../model/kube-object.js';
import { hpaTargets, type ObservedState } from '../model/observed.js';
import { applyDevMode, restoreOriginal, strategyInDevMode } from './dev-spec.js';
import { readDevState, type DevState } from './dev-state.js';
import { diffPaths, fieldName, managedPaths, pointer, type WorkloadDiff } from './patch.js';
import type { Plan, PlannedPatch, ServicePlan } from './types.js';
import { quotaExcess } from './quota.js';
import { leaveCopy, planCopyService } from './copy-planner.js';
import { COPY_KINDS } from './dev-copy.js';
import { lookupHint, noop, precondition, problem, recoveryHint, type Base } from './entries.js';
import { describePatches, outermost, overlaps, planPatching, putSaved, userPatchesOf } from './user-patches.js';

export interface PlanOptions {
  readonly mode: 'up' | 'down';
  /** Who runs nh (`NH_IDENTITY` or user@host). */
  readonly identity: string;
  /** ISO time of this run: `since` of services entering dev mode. */
  readonly now: string;
  readonly nhVersion: string;
  /** Take over services another identity has in dev mode. */
  readonly force: boolean;
  /** Duplicate mode: a personal dev copy of each workload, the workload itself left alone (default false). */
  readonly duplicate?: boolean;
}

const IN_PLACE = new Set(['Deployment', 'StatefulSet']);

export function planChanges(desired: DesiredState, observed: ObservedState, options: PlanOptions): Plan {
  const services = desired.services.map((service) => planService(desired.app, service, observed, options));
  // Services removed from the config since `up` are found by the marks dev mode left on the cluster.
  if (desired.wholeApp) services.push(...planRemoved(desired, observed, options));
  return { namespace: observed.namespace, identity: options.identity, createdAt: options.now, services };
}

function planService(app: string, service: DesiredService, observed: ObservedState, options: PlanOptions): ServicePlan {
  const base = { service: service.name, workload: { kind: service.workload.kind, name: service.workload.name } };
  const { kind, name } = service.workload;
  const seen = observed.services.get(service.name);
  if (COPY_KINDS.has(kind) || (options.duplicate && IN_PLACE.has(kind))) return planCopyService(base, app, service, seen, observed, options);
  if (!IN_PLACE.has(kind)) {
    if (options.mode === 'down') return noop(base, `${kind} workloads have no dev mode: nothing to restore`);
    return problem(base, 'error', 'NH_UNSUPPORTED_KIND', `dev mode for custom resources is not supported yet (service \`${service.name}\`, serviceType \`${service.workload.resource ?? kind}\`)`,
      'nh develops Deployments, StatefulSets, DaemonSets, Jobs, CronJobs and bare Pods');
  }
  const workload = seen?.workload;
  if (!seen || !workload) return problem(base, 'error', 'NH_WORKLOAD_NOT_FOUND', `no ${kind} \`${name}\` in namespace \`${observed.namespace}\``, lookupHint(seen, kind));
  const read = readDevState(workload);
  const observedBase = { ...base, observedResourceVersion: workload.metadata.resourceVersion };
  if (read.kind === 'invalid') {
    return problem(observedBase, 'error', 'NH_DEV_STATE_INVALID', `the saved dev state of ${kind} \`${name}\` is missing or corrupt: ${read.why}`, recoveryHint(kind, name));
  }
  const state = read.kind === 'present' ? read.state : undefined;
  const owner = state ? { identity: state.owner, since: state.since } : undefined;
  const withOwner = owner ? { ...observedBase, owner } : observedBase;
  if (state && state.owner !== options.identity && !options.force) {
    return problem(withOwner, 'conflict', 'NH_CONFLICT', `${kind} \`${name}\` is in dev mode by ${state.owner} since ${state.since}`,
      options.mode === 'up' ? 'pass --force to take it over' : 'pass --force to restore it anyway');
  }
  return options.mode === 'up' ? planEnter(withOwner, app, service, workload, state, seen.hpas, observed, options) : planLeave(withOwner, kind, workload, state, seen.hpas);
}

function planEnter(base: Base, app: string, service: DesiredService, workload: KubeObject, state: DevState | undefined, hpas: readonly KubeObject[], quotas: Pick<ObservedState, 'quotas' | 'limitRanges'>, options: PlanOptions): ServicePlan {
  const { quotas: quotaList, limitRanges } = quotas;
  const { kind } = service.workload;
  let original = workload;
  if (state) {
    // The patches' fields first: a patch may have removed or renamed what nh's own restore looks for.
    const restored = restoreOriginal(putSaved(workload, state.patches?.saved ?? []), state, kind);
    if (!restored.ok) return problem(base, 'error', 'NH_DEV_STATE_INVALID', restored.message, recoveryHint(kind, service.workload.name));
    original = restored.original;
  }
  const takeover = state !== undefined && state.owner !== options.identity;
  const meta = {
    app,
    owner: options.identity,
    since: state && !takeover ? state.since : options.now,
    nhVersion: state?.nhVersion ?? options.nhVersion,
  };
  const dev = applyDevMode(original, service, meta);
  if (!dev.ok) return problem(base, 'error', 'NH_UNSUPPORTED_KIND', dev.message, dev.hint);
  const { patched, unpatched, touched } = planPatching(dev.target, original, service.patches, state?.patches?.saved);
  const managed = managedPaths(workload, kind);
  // Fields the patches own are the server's result, not nh's: left out when asking whether anything changed.
  const settled = managed.filter((path) => !touched.some((t) => overlaps(t, path)));
  const name = fieldName(workload);
  if (state && kind === 'Deployment') {
    const templatePaths = settled.filter((path) => path[1] === 'template');
    patched.spec.strategy = unpatched.spec.strategy = strategyInDevMode(workload, diffPaths(workload, patched, templatePaths, name).fields.length > 0);
  }
  const hpaPatches = hpas.map(holdHpa).filter((p): p is PlannedPatch => p !== undefined);
  if (diffPaths(workload, patched, settled, name).fields.length === 0 && hpaPatches.length === 0) return noop(base, 'in dev mode and up to date');
  // Before the patches are sent again, what earlier ones changed is put back, so a patch never applies twice.
  const diff = diffPaths(workload, unpatched, outermost([...managed, ...touched]), name);
  const fields = [...diff.fields, ...describePatches(service.patches, original, name), ...hpaPatches.map((p) => `hpa[${p.name}].replicas`)];
  const excess = quotaExcess(quotaList, limitRanges, workload, dev.target);
  if (excess) {
    return problem(base, 'error', 'NH_QUOTA_EXCEEDED', excess.message,
      `lower the dev container's resources in the config, or ask for a larger quota (\`kubectl -n ${workload.metadata.namespace ?? '<namespace>'} describe resourcequota ${excess.quota}\`)`);
  }
  const reason = !state
    ? 'not in dev mode'
    : takeover
      ? `take over from ${state.owner} (in dev mode since ${state.since})`
      : state.configHash !== service.configHash
        ? 'the config changed since entering dev mode'
        : state.app !== app
          ? `now part of app \`${app}\` (was ${state.app === undefined ? 'not recorded' : `\`${state.app}\``})`
          : state.patches?.applied === false
            ? 'its patches were not all applied (an earlier run stopped half-way)'
            : 'fields changed on the cluster since entering dev mode';
  return {
    ...base,
    action: state ? 'update' : 'enter',
    reason,
    fields,
    volumeClaims: dev.volumeClaims,
    hpaPatches,
    workloadPatch: workloadPatch(kind, workload, diff),
    ...userPatchesOf(service, patched),
  };
}

function planLeave(base: Base, kind: string, workload: KubeObject, state: DevState | undefined, hpas: readonly KubeObject[]): ServicePlan {
  const hpaPatches = hpas.map(releaseHpa).filter((p): p is PlannedPatch => p !== undefined);
  if (!state) {
    if (hpaPatches.length === 0) return noop(base, 'not in dev mode');
    return { ...base, action: 'leave', reason: 'an HPA is still held at one replica', fields: hpaPatches.map((p) => `hpa[${p.name}].replicas`), volumeClaims: [], hpaPatches, workloadPatch: undefined };
  }
  const saved = state.patches?.saved ?? [];
  const restored = restoreOriginal(putSaved(workload, saved), state, kind);
  if (!restored.ok) return problem(base, 'error', 'NH_DEV_STATE_INVALID', restored.message, recoveryHint(kind, workload.metadata.name));
  const diff = diffPaths(workload, restored.original, outermost([...managedPaths(workload, kind), ...saved.map((f) => f.path)]), fieldName(workload));
  return {
    ...base,
    action: 'leave',
    reason: `in dev mode by ${state.owner} since ${state.since}`,
    fields: [...diff.fields, ...hpaPatches.map((p) => `hpa[${p.name}].replicas`)],
    volumeClaims: [],
    hpaPatches,
    workloadPatch: workloadPatch(kind, workload, diff),
  };
}

/**
 * Dev workloads of this identity and this app whose service is no longer in the config. Another app in the
 * namespace (another repo of the same developer) keeps its services; so does a state that names no app.
 * Both a whole-app `up` and a whole-app `down` take them out of dev mode.
 */
function planRemoved(desired: DesiredState, observed: ObservedState, options: PlanOptions): ServicePlan[] {
  return observed.devWorkloads.flatMap((workload) => {
    const read = readDevState(workload);
    if (read.kind !== 'present' || read.state.owner !== options.identity || read.state.app !== desired.app || desired.allServiceNames.includes(read.state.service)) return [];
    return [leaveWorkload(workload, read.state, observed, `service \`${read.state.service}\` is no longer in the config`)];
  });
}

/** `nh space reset`: every workload of the namespace in dev mode leaves it, whoever's and whichever app's. */
export function planLeaveAll(observed: ObservedState, options: PlanOptions): Plan {
  const services = observed.devWorkloads.flatMap((workload) => {
    const read = readDevState(workload);
    return read.kind === 'present' ? [leaveWorkload(workload, read.state, observed, `reset: in dev mode by ${read.state.owner}`)] : [];
  });
  return { namespace: observed.namespace, identity: options.identity, createdAt: options.now, services };
}

function leaveWorkload(workload: KubeObject, state: DevState, observed: ObservedState, reason: string): ServicePlan {
  if (state.copy) return leaveCopy(workload, state, observed.copySources?.get(`${state.copy.kind}/${state.copy.name}`), reason);
  const kind = workload.kind ?? 'Deployment';
  const hpas = observed.hpas.filter((h) => hpaTargets(h, kind, workload.metadata.name));
  const base = {
    service: state.service, workload: { kind, name: workload.metadata.name },
    owner: { identity: state.owner, since: state.since }, observedResourceVersion: workload.metadata.resourceVersion,
  };
  const plan = planLeave(base, kind, workload, state, hpas);
  return plan.action === 'leave' ? { ...plan, reason } : plan;
}

interface HpaSpec {
  minReplicas?: number;
  maxReplicas?: number;
}

/** Hold an HPA at one replica; its original min/max go into an annotation on the HPA itself. */
function holdHpa(hpa: KubeObject): PlannedPatch | undefined {
  const spec = (hpa['spec'] ?? {}) as HpaSpec;
  const held = hpa.metadata.annotations?.[HPA_ORIGINAL_ANNOTATION] !== undefined;
  const ops: JsonPatchOp[] = [];
  if (!held) {
    const original = JSON.stringify({ minReplicas: spec.minReplicas ?? null, maxReplicas: spec.maxReplicas ?? null });
    ops.push(hpa.metadata.annotations
      ? { op: 'add', path: pointer(['metadata', 'annotations', HPA_ORIGINAL_ANNOTATION]), value: original }
      : { op: 'add', path: '/metadata/annotations', value: { [HPA_ORIGINAL_ANNOTATION]: original } });
  }
  if (spec.minReplicas !== 1) ops.push({ op: 'add', path: '/spec/minReplicas', value: 1 });
  if (spec.maxReplicas !== 1) ops.push({ op: 'add', path: '/spec/maxReplicas', value: 1 });
  return ops.length ? hpaPatch(hpa, ops) : undefined;
}

function releaseHpa(hpa: KubeObject): PlannedPatch | undefined {
  const text = hpa.metadata.annotations?.[HPA_ORIGINAL_ANNOTATION];
  if (text === undefined) return undefined;
  let original: { minReplicas?: number | null; maxReplicas?: number | null } = {};
  try {
    original = JSON.parse(text) as typeof original;
  } catch {
    // A corrupt record cannot be restored from; dropping it at least releases the HPA from nh.
  }
  const ops: JsonPatchOp[] = [{ op: 'remove', path: pointer(['metadata', 'annotations', HPA_ORIGINAL_ANNOTATION]) }];
  const spec = (hpa['spec'] ?? {}) as HpaSpec;
  if (typeof original.maxReplicas === 'number') ops.push({ op: 'add', path: '/spec/maxReplicas', value: original.maxReplicas });
  if (typeof original.minReplicas === 'number') ops.push({ op: 'add', path: '/spec/minReplicas', value: original.minReplicas });
  else if (original.minReplicas === null && spec.minReplicas !== undefined) ops.push({ op: 'remove', path: '/spec/minReplicas' });
  return hpaPatch(hpa, ops);
}

function hpaPatch(hpa: KubeObject, ops: JsonPatchOp[]): PlannedPatch {
  const resourceVersion = hpa.metadata.resourceVersion ?? '';
  return { kind: 'HorizontalPodAutoscaler', name: hpa.metadata.name, resourceVersion, ops: [precondition(resourceVersion), ...ops] };
}

function workloadPatch(kind: string, workload: KubeObject, diff: WorkloadDiff): PlannedPatch | undefined {
  if (diff.ops.length === 0) return undefined;
  const resourceVersion = workload.metadata.resourceVersion ?? '';
  return { kind: kind as PlannedPatch['kind'], name: workload.metadata.name, resourceVersion, ops: [precondition(resourceVersion), ...diff.ops] };
}
