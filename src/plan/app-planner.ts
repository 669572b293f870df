/**
 * planApp: the desired app against what the cluster holds → one entry per resource (create, update with
 * the fields a dry run changes, prune, held, keep, noop), each with a reason, plus the hooks to run and the
 * record to write. Pure: the observations (live objects, dry runs, the record) are passed in.
 */
import type { HookPhase } from '../config/model.js';
import type { DesiredApp } from '../desired/app.js';
import type { ObservedApp, ObservedResource } from '../kube/observe-app.js';
import { APP_LABEL, RECORD_FORMAT, recordName, resourceKey, type AppRecord, type InventoryItem } from '../model/app-record.js';
import { DEV_MODE_LABEL } from '../model/dev-mode.js';
import type { KubeObject } from '../model/kube-object.js';
import type { AppAction, AppPlan, ResourceChange } from './app-types.js';
import type { PlanProblem } from './types.js';

export interface AppPlanOptions {
  readonly mode: 'install' | 'uninstall';
  readonly identity: string;
  readonly now: string;
  readonly nhVersion: string;
}

const MAX_FIELDS = 12;

export function planApp(app: string, desired: DesiredApp | undefined, observed: ObservedApp, options: AppPlanOptions): AppPlan {
  const base = { app, namespace: observed.namespace, recordVersion: observed.recordObject?.metadata.resourceVersion, previous: observed.record };
  if (observed.recordInvalid) {
    return {
      ...base, action: 'error', reason: 'the app record cannot be read', resources: [], hooks: noHooks(), next: undefined,
      problems: [{ code: 'NH_APP_RECORD_INVALID', message: `the record of app \`${app}\` (ConfigMap ${recordName(app)}) cannot be read: ${observed.recordInvalid}`,
        hint: `inspect it with \`kubectl -n ${observed.namespace} get configmap ${recordName(app)} -o yaml\`; delete it only if nothing of the app is left` }],
    };
  }
  return options.mode === 'uninstall' ? planUninstall(base, observed) : planInstall(base, desired!, observed, options);
}

type Base = Pick<AppPlan, 'app' | 'namespace' | 'recordVersion' | 'previous'>;

function planInstall(base: Base, desired: DesiredApp, observed: ObservedApp, options: AppPlanOptions): AppPlan {
  const previous = observed.record;
  const recorded = new Map((previous?.inventory ?? []).map((i) => [resourceKey(i), i]));
  const problems: PlanProblem[] = desired.problems.map((p) => ({ code: 'NH_RENDER_FAILED', message: `${p.at.file}:${p.at.line}:${p.at.col}: ${p.message}`, hint: p.hint }));
  const changes: ResourceChange[] = [];
  const inventory: InventoryItem[] = [];
  desired.resources.forEach((want, i) => {
    const seen = observed.desired[i]!;
    const object = want.object;
    const where = `${want.at.file}:${want.at.line}:${want.at.col}`;
    const entry = { key: seen.key, kind: String(object.kind), name: object.metadata.name, namespace: seen.namespace, resource: seen.resource, tier: want.tier, ...(want.waitFor ? { waitFor: want.waitFor } : {}) };
    if (!seen.resource) {
      problems.push({ code: 'NH_RENDER_FAILED', message: `${where}: the cluster does not serve ${String(object.kind)} (${String(object.apiVersion)})`,
        hint: 'install its CustomResourceDefinition first, or check apiVersion and kind' });
      return;
    }
    if (seen.dryRunError) {
      problems.push({ code: seen.dryRunError.code, message: `${where}: ${String(object.kind)} \`${object.metadata.name}\`: ${seen.dryRunError.message}`, hint: seen.dryRunError.hint });
      return;
    }
    const before = recorded.get(seen.key);
    const created = seen.live ? (before?.created ?? seen.live.metadata.labels?.[APP_LABEL] === base.app) : true;
    const apply = { ...object, metadata: { ...object.metadata, ...(seen.namespace ? { namespace: seen.namespace } : {}) } };
    const item = (hash: string): InventoryItem => ({ apiVersion: String(object.apiVersion), kind: String(object.kind), namespace: seen.namespace, name: object.metadata.name, hash, created });
    if (!seen.live) {
      changes.push({ ...entry, action: 'create', reason: 'not on the cluster', fields: [], object: apply });
      inventory.push(item(want.hash));
      return;
    }
    if (seen.live.metadata.labels?.[DEV_MODE_LABEL] !== undefined) {
      const unchanged = before?.hash === want.hash;
      changes.push({ ...entry, action: unchanged ? 'noop' : 'held', fields: [],
        reason: unchanged ? 'in dev mode; its manifest is unchanged' : 'in dev mode, so its new manifest waits: `nh down` it, then `nh up` applies it' });
      inventory.push(item(before?.hash ?? ''));
      return;
    }
    const fields = seen.dryRun ? changedFields(seen.live, seen.dryRun) : before?.hash === want.hash ? [] : ['(manifest changed)'];
    inventory.push(item(want.hash));
    if (fields.length === 0) {
      changes.push({ ...entry, action: 'noop', reason: 'up to date', fields });
      return;
    }
    const reason = seen.live.metadata.labels?.[APP_LABEL] !== base.app
      ? 'exists, not installed by nh: nh takes its fields over (and will never delete it)'
      : before && before.hash !== want.hash ? 'its manifest changed' : 'changed on the cluster since nh applied it';
    changes.push({ ...entry, action: 'update', reason, fields, object: apply });
  });
  changes.push(...pruneChanges(base.app, observed, new Set(changes.map((c) => c.key)), 'no longer part of the rendered app'));

  const changing = changes.filter((c) => c.action === 'create' || c.action === 'update' || c.action === 'prune');
  const counts = (['create', 'update', 'prune', 'held'] as const).map((a) => [a, changes.filter((c) => c.action === a).length] as const).filter(([, n]) => n > 0);
  const summary = counts.map(([a, n]) => `${n} to ${a === 'held' ? 'hold back' : a}`).join(', ');
  let action: AppAction;
  let reason: string;
  if (problems.length) {
    action = 'error';
    reason = `${problems.length} problem${problems.length === 1 ? '' : 's'}; nothing will be applied`;
  } else if (!previous) {
    action = 'install';
    reason = `not installed: ${summary || 'nothing to apply'}`;
  } else if (previous.status !== 'installed') {
    action = previous.status === 'installing' && previous.revision <= 1 ? 'install' : 'upgrade';
    reason = `the last run ended ${previous.status}${previous.lastError ? ` (${previous.lastError})` : ''}; running it again${summary ? `: ${summary}` : ''}`;
  } else if (changing.length || previous.configHash !== desired.hash) {
    action = 'upgrade';
    reason = summary || 'the config changed (hooks or waits); no resource differs';
  } else {
    action = 'noop';
    reason = `installed, revision ${previous.revision}, up to date${summary ? ` (${summary})` : ''}`;
  }
  const phases: [HookPhase | undefined, HookPhase | undefined] =
    action === 'install' ? ['preInstall', 'postInstall'] : action === 'upgrade' && changing.length ? ['preUpgrade', 'postUpgrade'] : [undefined, undefined];
  const next: AppRecord | undefined = action === 'error' || action === 'noop' ? undefined : {
    format: RECORD_FORMAT, app: base.app, manifestType: desired.manifestType, source: desired.source, configHash: desired.hash,
    revision: (previous?.revision ?? 0) + (changing.length || !previous ? 1 : 0), status: 'installed',
    installedBy: options.identity, installedAt: previous?.installedAt ?? options.now, updatedAt: options.now, nhVersion: options.nhVersion,
    inventory, deleteHooks: { preDelete: desired.hooks.preDelete, postDelete: desired.hooks.postDelete },
  };
  return {
    ...base, action, reason, problems, resources: changes, next,
    hooks: { before: phases[0] ? desired.hooks[phases[0]] : [], after: phases[1] ? desired.hooks[phases[1]] : [], phases },
  };
}

function planUninstall(base: Base, observed: ObservedApp): AppPlan {
  const previous = observed.record;
  if (!previous) return { ...base, action: 'noop', reason: 'not installed', problems: [], resources: [], hooks: noHooks(), next: undefined };
  const resources = pruneChanges(base.app, observed, new Set(), 'uninstall');
  return {
    ...base, action: 'uninstall', reason: `${resources.filter((r) => r.action === 'prune').length} resources to delete`, problems: [], resources, next: undefined,
    hooks: { before: previous.deleteHooks.preDelete, after: previous.deleteHooks.postDelete, phases: ['preDelete', 'postDelete'] },
  };
}

/** Inventory items outside `keep`: deleted only when nh created them and they still carry this app's label. */
function pruneChanges(app: string, observed: ObservedApp, keep: ReadonlySet<string>, why: string): ResourceChange[] {
  const changes: ResourceChange[] = [];
  for (const item of observed.record?.inventory ?? []) {
    const key = resourceKey(item);
    if (keep.has(key)) continue;
    const seen: ObservedResource | undefined = observed.inventory.get(key);
    if (!seen?.live) continue; // already gone
    const entry = { key, kind: item.kind, name: item.name, namespace: item.namespace, resource: seen.resource, tier: 0, fields: [] };
    if (!item.created) changes.push({ ...entry, action: 'keep', reason: 'existed before nh installed the app: left in place' });
    else if (seen.live.metadata.labels?.[APP_LABEL] !== app) changes.push({ ...entry, action: 'keep', reason: `no longer labelled ${APP_LABEL}=${app}: left in place` });
    else changes.push({ ...entry, action: 'prune', reason: why });
  }
  return changes;
}

function noHooks(): AppPlan['hooks'] {
  return { before: [], after: [], phases: [undefined, undefined] };
}

const IGNORED_METADATA = new Set(['managedFields', 'resourceVersion', 'generation', 'creationTimestamp', 'uid', 'selfLink']);

/** Human paths of what differs between the live object and the dry run's result, status and bookkeeping aside. */
export function changedFields(live: KubeObject, next: KubeObject): string[] {
  const out: string[] = [];
  const walk = (a: unknown, b: unknown, path: string) => {
    if (out.length >= MAX_FIELDS) return;
    if (Array.isArray(a) && Array.isArray(b)) {
      const left = a as unknown[];
      const right = b as unknown[];
      if (left.every(named) && right.every(named)) {
        const nameOf = (x: unknown) => (x as { name: string }).name;
        for (const name of new Set([...left, ...right].map(nameOf))) walk(left.find((x) => nameOf(x) === name), right.find((x) => nameOf(x) === name), `${path}[${name}]`);
      } else if (left.length !== right.length) out.push(path);
      else left.forEach((x, i) => walk(x, right[i], `${path}[${i}]`));
      return;
    }
    if (isObject(a) && isObject(b)) {
      for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
        if (path === '' && key === 'status') continue;
        if (path === 'metadata' && IGNORED_METADATA.has(key)) continue;
        walk(a[key], b[key], path ? `${path}.${key}` : key);
      }
      return;
    }
    if (a !== b) out.push(path || '(object)');
  };
  walk(live, next, '');
  return out;
}

function named(x: unknown): boolean {
  return isObject(x) && typeof x['name'] === 'string';
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
