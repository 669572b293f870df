/**
 * Dev copies, pure: a Deployment nh creates to run the dev pod when the workload itself cannot be switched
 * in place (a Job, a CronJob, a DaemonSet, a bare Pod) or must not be (duplicate mode). The copy takes the
 * source's pod template, goes through the same dev transformation as a Deployment, and carries the dev state
 * with the source named in it; its name and selector are derived from the source (and, for a duplicate, the
 * identity), so every machine finds it and a second `nh up` never makes a second one.
 */
import { createHash } from 'node:crypto';
import type { DesiredService } from '../desired/build.js';
import { COPY_LABEL, COPY_OF_ANNOTATION, SERVICE_LABEL } from '../model/dev-mode.js';
import { copyKey, copyName } from '../model/dev-workload.js';
import { cloneJson, type Json, type KubeObject } from '../model/kube-object.js';
import { applyDevMode, type DevMeta, type DevTransform, type Workload } from './dev-spec.js';
import type { CopyOf } from './dev-state.js';
import { getAt } from './patch.js';
import { onlyOnNode, released } from './held.js';

/** Kinds whose dev pod always runs in a copy (Deployments and StatefulSets are switched in place). */
export const COPY_KINDS: ReadonlySet<string> = new Set(['Job', 'CronJob', 'DaemonSet', 'Pod']);

/** The pod template a copy is made of: a workload's template, a CronJob's job template's, a bare Pod's own. */
export function podTemplateOf(kind: string, source: KubeObject): { metadata?: Record<string, Json>; spec: Record<string, Json> } | undefined {
  if (kind === 'Pod') {
    const { labels, annotations } = source.metadata;
    return { metadata: { ...(labels ? { labels } : {}), ...(annotations ? { annotations } : {}) }, spec: source['spec'] as Record<string, Json> };
  }
  const path = kind === 'CronJob' ? ['spec', 'jobTemplate', 'spec', 'template'] : ['spec', 'template'];
  return getAt(released(source), path) as { spec: Record<string, Json> } | undefined;
}

/** Hash of the source's pod template as it is without nh's hold: a change means the copy must follow. */
export function sourceHash(kind: string, source: KubeObject): string {
  return hash(canonical(podTemplateOf(kind, source) ?? null));
}

/** Labels the Job controller puts on its pods' template; a copy must not carry them (they name that Job). */
const JOB_LABELS = ['controller-uid', 'batch.kubernetes.io/controller-uid', 'job-name', 'batch.kubernetes.io/job-name'];
/** Pod fields that make no sense for a long-running dev pod, or that a Deployment's template may not have. */
const DROPPED_POD_FIELDS = ['nodeName', 'activeDeadlineSeconds', 'ephemeralContainers'];

export interface CopyOptions {
  readonly duplicateFor: string | undefined;
  /** DaemonSet: the node the dev pod runs on. */
  readonly node: string | undefined;
  readonly meta: Omit<DevMeta, 'copy'>;
}

export type CopyTransform = DevTransform & { readonly claims?: readonly KubeObject[] };

/** The dev copy of a source: a one-replica Recreate Deployment with the dev transformation applied. */
export function buildCopy(kind: string, source: KubeObject, service: DesiredService, options: CopyOptions): CopyTransform {
  const template = cloneJson(podTemplateOf(kind, source));
  if (!template?.spec) return { ok: false, message: `${kind} \`${source.metadata.name}\` has no pod template`, hint: 'check the workload on the cluster' };
  const ref = { kind, name: source.metadata.name };
  const key = copyKey(ref, options.duplicateFor);
  const duplicate = options.duplicateFor !== undefined;
  // A duplicate keeps none of the source's labels, so no Service selects it; a copy standing in for its source keeps them.
  const sourceLabels = duplicate ? {} : { ...((template.metadata?.['labels'] ?? {}) as Record<string, string>) };
  for (const label of JOB_LABELS) delete sourceLabels[label];
  const selector = { [COPY_LABEL]: key };
  const spec = template.spec as Record<string, unknown>;
  for (const field of DROPPED_POD_FIELDS) delete spec[field];
  spec['restartPolicy'] = 'Always';
  if (options.node !== undefined) spec['affinity'] = onlyOnNode(spec['affinity'] as Json | undefined, options.node);
  const annotations = template.metadata?.['annotations'];
  const claims = duplicate && kind === 'StatefulSet' ? identityClaims(source, copyName(ref, options.duplicateFor), { [COPY_LABEL]: key, [SERVICE_LABEL]: service.name }) : [];
  if (claims.length) {
    // The pod's mounts name the claim templates; a Deployment has none, so each becomes a volume on a claim of the copy's own.
    const named = new Set(claims.map((c) => c.volume));
    const volumes = ((spec['volumes'] ?? []) as { name: string }[]).filter((v) => !named.has(v.name));
    spec['volumes'] = [...volumes, ...claims.map((c) => ({ name: c.volume, persistentVolumeClaim: { claimName: c.claim.metadata.name } }))];
  }
  const synthetic: Workload = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: copyName(ref, options.duplicateFor),
      labels: { ...selector, [SERVICE_LABEL]: service.name },
      // Only a copy standing in for its source has a source to release when it goes.
      ...(duplicate ? {} : { annotations: { [COPY_OF_ANNOTATION]: `${kind}/${source.metadata.name}` } }),
    },
    spec: {
      replicas: 1,
      selector: { matchLabels: selector },
      strategy: { type: 'Recreate' },
      template: { metadata: { labels: { ...sourceLabels, ...selector }, ...(annotations ? { annotations } : {}) }, spec: spec as Workload['spec']['template']['spec'] },
    },
  };
  const copy: CopyOf = {
    kind, name: source.metadata.name, duplicate, sourceHash: sourceHash(kind, source),
    ...(options.node !== undefined ? { node: options.node } : {}),
    ...(kind === 'Pod' ? { pod: savedPod(source) } : {}),
    ...(claims.length ? { claims: claims.map((c) => c.claim.metadata.name) } : {}),
  };
  const dev = applyDevMode(synthetic, { ...service, workload: { kind: 'Deployment', name: synthetic.metadata.name } }, { ...options.meta, copy });
  return dev.ok && claims.length ? { ...dev, claims: claims.map((c) => c.claim) } : dev;
}

interface ClaimTemplate {
  readonly metadata: { readonly name: string; readonly labels?: Record<string, string>; readonly annotations?: Record<string, string> };
  readonly spec: Record<string, Json>;
}

/**
 * A StatefulSet's volumeClaimTemplates, as claims of one duplicate: `<template>-<copy>`, as the StatefulSet
 * controller names `<template>-<set>-<ordinal>`, so each identity's copy has storage of its own.
 */
function identityClaims(source: KubeObject, copy: string, labels: Record<string, string>): { volume: string; claim: KubeObject }[] {
  const templates = ((source['spec'] as { volumeClaimTemplates?: ClaimTemplate[] }).volumeClaimTemplates ?? []);
  return templates.map((t) => ({
    volume: t.metadata.name,
    claim: {
      apiVersion: 'v1', kind: 'PersistentVolumeClaim',
      metadata: { name: `${t.metadata.name}-${copy}`.slice(0, 253), labels: { ...t.metadata.labels, ...labels }, ...(t.metadata.annotations ? { annotations: t.metadata.annotations } : {}) },
      spec: cloneJson(t.spec),
    },
  }));
}

/** A bare Pod as it can be created again: what the API server and kubelet add (status, uid, times) left out. */
export function savedPod(pod: KubeObject): Json {
  const { name, labels, annotations } = pod.metadata;
  return cloneJson({
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name, ...(labels ? { labels } : {}), ...(annotations ? { annotations } : {}) },
    spec: pod['spec'] as Json,
  });
}

function hash(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** JSON with sorted keys: the same template hashes the same whatever order the API server wrote it in. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  const object = value as Record<string, unknown>;
  return `{${Object.keys(object).sort().map((k) => `${JSON.stringify(k)}:${canonical(object[k])}`).join(',')}}`;
}
