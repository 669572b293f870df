/**
 * The app's record on the cluster: one ConfigMap per app in its namespace, so any machine can upgrade or
 * remove the app. It holds what nh installed (an inventory, not manifests: small, and the identity of each
 * object includes its namespace), who installed it and when, its status, and the delete hooks, which an
 * uninstall from a machine without the config still needs.
 */
import type { KubeObject } from './kube-object.js';

export const APP_LABEL = 'nh.dev/app';
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY_VALUE = 'nh';
/** On the record's ConfigMap, so `kubectl get cm -l nh.dev/record=app` lists every app. */
export const RECORD_LABEL = 'nh.dev/record';
/** On hook Jobs: the phase they ran in. */
export const HOOK_LABEL = 'nh.dev/hook';
const RECORD_KEY = 'record.json';
export const RECORD_FORMAT = 1;

export type AppStatus = 'installing' | 'installed' | 'failed' | 'uninstalling';

export interface InventoryItem {
  readonly apiVersion: string;
  readonly kind: string;
  /** undefined for cluster-scoped objects. */
  readonly namespace: string | undefined;
  readonly name: string;
  /** Hash of the manifest nh applied: tells a changed manifest from drift without a dry run. */
  readonly hash: string;
  /** False when the object existed before nh applied it: nh then never deletes it. */
  readonly created: boolean;
}

export interface AppRecord {
  readonly format: number;
  readonly app: string;
  readonly manifestType: string;
  /** `local`, or the git URL and commit that was rendered. */
  readonly source: string;
  readonly configHash: string;
  readonly revision: number;
  readonly status: AppStatus;
  readonly lastError?: string;
  readonly installedBy: string;
  readonly installedAt: string;
  readonly updatedAt: string;
  readonly nhVersion: string;
  readonly inventory: readonly InventoryItem[];
  readonly deleteHooks: { readonly preDelete: readonly KubeObject[]; readonly postDelete: readonly KubeObject[] };
}

/** A ConfigMap name for any app name (a default one comes from a directory name, which may have capitals). */
export function recordName(app: string): string {
  return `nh-app-${app.toLowerCase().replace(/[^a-z0-9.-]+/g, '-').replace(/^[-.]+|[-.]+$/g, '')}`.slice(0, 253);
}

export function recordObject(record: AppRecord, namespace: string, resourceVersion: string | undefined): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: recordName(record.app),
      namespace,
      // Server-side apply honours it as a precondition: two installs at once cannot both write.
      ...(resourceVersion ? { resourceVersion } : {}),
      labels: { [RECORD_LABEL]: 'app', [APP_LABEL]: record.app, [MANAGED_BY_LABEL]: MANAGED_BY_VALUE },
    },
    data: { [RECORD_KEY]: JSON.stringify(record, null, 1) },
  };
}

/** The record in a ConfigMap, or why it cannot be read (never a guess: uninstall deletes by it). */
export function readRecord(object: KubeObject): AppRecord | { readonly invalid: string } {
  const text = (object['data'] as Record<string, string> | undefined)?.[RECORD_KEY];
  if (typeof text !== 'string') return { invalid: `it has no \`${RECORD_KEY}\`` };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { invalid: `its ${RECORD_KEY} is not JSON (${(error as Error).message})` };
  }
  const r = value as Partial<AppRecord>;
  if (r.format !== RECORD_FORMAT) return { invalid: `its format is ${String(r.format)}, this nh reads ${RECORD_FORMAT}` };
  if (typeof r.app !== 'string' || !Array.isArray(r.inventory) || typeof r.status !== 'string' || !r.deleteHooks) {
    return { invalid: 'it lacks app, status, inventory or deleteHooks' };
  }
  for (const item of r.inventory as unknown[]) {
    const i = item as Partial<InventoryItem>;
    if (typeof i.apiVersion !== 'string' || typeof i.kind !== 'string' || typeof i.name !== 'string' || typeof i.created !== 'boolean') {
      return { invalid: `an inventory entry is malformed: ${JSON.stringify(item).slice(0, 120)}` };
    }
  }
  return r as AppRecord;
}

/** One identity per object, whatever API version it was written in. */
export function resourceKey(item: { readonly apiVersion: string; readonly kind: string; readonly namespace: string | undefined; readonly name: string }): string {
  const group = item.apiVersion.includes('/') ? item.apiVersion.split('/')[0] : '';
  return `${group}/${item.kind}/${item.namespace ?? ''}/${item.name}`;
}
