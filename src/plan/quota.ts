/**
 * Would the dev pod fit the namespace's ResourceQuotas? Pure: the quota's usage, the running pods' template
 * and replicas, the dev template, and the LimitRange defaults that the API server would fill in. The old
 * pods' share is taken as freed (dev mode stops them first), so a refusal here is certain, not a guess: the
 * plan says which quota and by how much before anything changes, instead of a pod that is never created.
 */
import type { KubeObject } from '../model/kube-object.js';
import { formatQuantity, parseQuantity } from '../model/quantity.js';

type Amounts = Partial<Record<'requests.cpu' | 'requests.memory' | 'limits.cpu' | 'limits.memory' | 'pods', number>>;

interface Container {
  resources?: { requests?: Record<string, string | number>; limits?: Record<string, string | number> };
}

export interface QuotaExcess {
  readonly quota: string;
  readonly resource: string;
  readonly message: string;
}

/** Quota keys that count the same thing (`cpu` is `requests.cpu`). */
const ALIASES: Readonly<Record<string, keyof Amounts>> = {
  cpu: 'requests.cpu', memory: 'requests.memory', 'requests.cpu': 'requests.cpu', 'requests.memory': 'requests.memory',
  'limits.cpu': 'limits.cpu', 'limits.memory': 'limits.memory', pods: 'pods',
};

export function quotaExcess(quotas: readonly KubeObject[], limitRanges: readonly KubeObject[], running: KubeObject, dev: KubeObject): QuotaExcess | undefined {
  const defaults = containerDefaults(limitRanges);
  const before = scale(podAmounts(templateOf(running), defaults), replicasOf(running));
  const after = podAmounts(templateOf(dev), defaults);
  for (const quota of quotas) {
    const hard = (quota['status'] as { hard?: Record<string, string> } | undefined)?.hard ?? (quota['spec'] as { hard?: Record<string, string> } | undefined)?.hard ?? {};
    const used = (quota['status'] as { used?: Record<string, string> } | undefined)?.used ?? {};
    for (const [key, limit] of Object.entries(hard)) {
      const resource = ALIASES[key];
      if (!resource) continue;
      const cap = parseQuantity(limit);
      const now = parseQuantity(used[key] ?? '0') ?? 0;
      const need = now - (before[resource] ?? 0) + (after[resource] ?? 0);
      // Rounding: quantities come back from the API server in their own units.
      if (cap !== undefined && need > cap * (1 + 1e-9)) {
        const asked = formatQuantity(after[resource] ?? 0, key);
        return {
          quota: quota.metadata.name,
          resource: key,
          message: `entering dev mode would exceed ResourceQuota \`${quota.metadata.name}\`: ${key} would be ${formatQuantity(need, key)} of ${formatQuantity(cap, key)} (the dev pod ${resource === 'pods' ? 'is 1 pod' : `asks ${asked}`}, ${formatQuantity(Math.max(0, now - (before[resource] ?? 0)), key)} is used by the rest of the namespace)`,
        };
      }
    }
  }
  return undefined;
}

function templateOf(workload: KubeObject): Container[] {
  return ((workload['spec'] as { template?: { spec?: { containers?: Container[] } } } | undefined)?.template?.spec?.containers) ?? [];
}

function replicasOf(workload: KubeObject): number {
  return (workload['spec'] as { replicas?: number } | undefined)?.replicas ?? 1;
}

function scale(amounts: Amounts, factor: number): Amounts {
  return Object.fromEntries(Object.entries(amounts).map(([k, v]) => [k, v * factor]));
}

interface Defaults {
  readonly request: Record<string, string>;
  readonly limit: Record<string, string>;
}

function containerDefaults(limitRanges: readonly KubeObject[]): Defaults {
  const request: Record<string, string> = {};
  const limit: Record<string, string> = {};
  for (const range of limitRanges) {
    for (const item of (range['spec'] as { limits?: { type?: string; defaultRequest?: Record<string, string>; default?: Record<string, string> }[] } | undefined)?.limits ?? []) {
      if (item.type !== 'Container') continue;
      Object.assign(request, item.defaultRequest);
      Object.assign(limit, item.default);
    }
  }
  return { request, limit };
}

/** What the API server would count for one pod: requests default to the limit, then to the LimitRange's. */
function podAmounts(containers: readonly Container[], defaults: Defaults): Amounts {
  const total: Amounts = { pods: 1 };
  for (const c of containers) {
    for (const r of ['cpu', 'memory'] as const) {
      const limit = c.resources?.limits?.[r] ?? defaults.limit[r];
      const request = c.resources?.requests?.[r] ?? (c.resources?.limits?.[r] !== undefined ? c.resources.limits[r] : undefined) ?? defaults.request[r] ?? limit;
      if (request !== undefined) total[`requests.${r}`] = (total[`requests.${r}`] ?? 0) + (parseQuantity(request) ?? 0);
      if (limit !== undefined) total[`limits.${r}`] = (total[`limits.${r}`] ?? 0) + (parseQuantity(limit) ?? 0);
    }
  }
  return total;
}
