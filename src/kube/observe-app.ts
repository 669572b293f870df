/**
 * What the cluster holds of the app, read-only: its record, the live object behind every desired resource
 * and every inventory item, and what applying each desired resource would produce (a server-side dry run,
 * which also validates it and checks the right to write it). Dev-mode workloads are not dry-run: nh's dev
 * patch owns some of their fields, and the planner holds their changes back anyway.
 */
import type { DesiredApp } from '../desired/app.js';
import { NhError } from '../errors.js';
import { readRecord, recordName, resourceKey, type AppRecord } from '../model/app-record.js';
import { DEV_MODE_LABEL } from '../model/dev-mode.js';
import type { KubeObject } from '../model/kube-object.js';
import { CORE, type ApiResource, type KubeClient } from './client.js';
import { mapLimit } from '../util/map-limit.js';

export interface ObservedResource {
  readonly key: string;
  /** undefined: the cluster does not serve this kind (a CRD not installed). */
  readonly resource: ApiResource | undefined;
  readonly namespace: string | undefined;
  readonly live: KubeObject | undefined;
  /** What applying it would give; undefined for dev-mode workloads and unknown kinds. */
  readonly dryRun?: KubeObject;
  readonly dryRunError?: NhError;
}

export interface ObservedApp {
  readonly namespace: string;
  /** The record's ConfigMap, its content, or why it cannot be read. */
  readonly recordObject: KubeObject | undefined;
  readonly record: AppRecord | undefined;
  readonly recordInvalid?: string;
  /** Per desired resource, in the same order. */
  readonly desired: readonly ObservedResource[];
  /** Per inventory item of the record, by key. */
  readonly inventory: ReadonlyMap<string, ObservedResource>;
}

/** Concurrent requests: enough to hide latency, few enough not to burst a shared API server. */
export const CONCURRENCY = 8;

export async function observeApp(kube: KubeClient, namespace: string, app: string, desired: DesiredApp | undefined, options: { dryRun: boolean }): Promise<ObservedApp> {
  const recordObject = await kube.getObject(CORE.ConfigMap, namespace, recordName(app));
  const read = recordObject ? readRecord(recordObject) : undefined;
  const record = read && !('invalid' in read) ? read : undefined;
  const observedDesired = await mapLimit(desired?.resources ?? [], CONCURRENCY, async ({ object }) => {
    const apiVersion = String(object.apiVersion);
    const resource = await kube.resourceFor(apiVersion, String(object.kind));
    const ns = resource && !resource.namespaced ? undefined : (object.metadata.namespace ?? namespace);
    const key = resourceKey({ apiVersion, kind: String(object.kind), namespace: ns, name: object.metadata.name });
    if (!resource) return { key, resource, namespace: ns, live: undefined };
    let live: KubeObject | undefined;
    try {
      live = await kube.getObject(resource, ns, object.metadata.name);
    } catch (error) {
      // Not allowed to read it (another namespace, cluster-scoped): a problem of this resource, not of the run.
      if (!(error instanceof NhError) || error.code !== 'NH_KUBE_FORBIDDEN') throw error;
      return { key, resource, namespace: ns, live: undefined, dryRunError: error };
    }
    if (!options.dryRun || live?.metadata.labels?.[DEV_MODE_LABEL] !== undefined) return { key, resource, namespace: ns, live };
    const body = { ...object, metadata: { ...object.metadata, ...(ns ? { namespace: ns } : {}) } };
    try {
      return { key, resource, namespace: ns, live, dryRun: await kube.applyObject(resource, ns, body, { dryRun: true }) };
    } catch (error) {
      if (!(error instanceof NhError)) throw error;
      return { key, resource, namespace: ns, live, dryRunError: error };
    }
  });
  const inventory = new Map<string, ObservedResource>();
  const wanted = new Set(observedDesired.map((o) => o.key));
  await mapLimit((record?.inventory ?? []).filter((item) => !wanted.has(resourceKey(item))), CONCURRENCY, async (item) => {
    const resource = await kube.resourceFor(item.apiVersion, item.kind);
    const live = resource ? await kube.getObject(resource, item.namespace, item.name) : undefined;
    inventory.set(resourceKey(item), { key: resourceKey(item), resource, namespace: item.namespace, live });
  });
  for (const o of observedDesired) inventory.set(o.key, o);
  return { namespace, recordObject, record, ...(read && 'invalid' in read ? { recordInvalid: read.invalid } : {}), desired: observedDesired, inventory };
}
