/**
 * Which object runs a service's dev pods, by name alone (no cluster): the workload itself when nh switches
 * it in place, else its dev copy (plan/dev-copy.ts), whose name derives from the source and, in duplicate
 * mode, the identity. Status, exec, sync, logs and the dev loop find dev pods through it.
 */
import { createHash } from 'node:crypto';

export interface WorkloadName {
  readonly kind: string;
  readonly name: string;
}

/** The object that runs a service's dev pods: the workload itself, or its dev copy. */
export function devWorkloadOf(workload: WorkloadName, duplicateFor: string | undefined): { readonly kind: 'Deployment' | 'StatefulSet'; readonly name: string; readonly copy: boolean } {
  if (duplicateFor === undefined && (workload.kind === 'Deployment' || workload.kind === 'StatefulSet')) return { kind: workload.kind, name: workload.name, copy: false };
  return { kind: 'Deployment', name: copyName(workload, duplicateFor), copy: true };
}

const KIND_TAGS: Readonly<Record<string, string>> = { Job: 'job', CronJob: 'cron', DaemonSet: 'ds', Pod: 'pod', Deployment: 'deploy', StatefulSet: 'sts' };

/** `worker-nh-job`, `api-nh-dup-alice-3f2a1`: readable, under 63 characters, one per source (and identity). */
export function copyName(source: WorkloadName, duplicateFor: string | undefined): string {
  const tag = KIND_TAGS[source.kind] ?? 'dev';
  const suffix = duplicateFor === undefined ? `-nh-${tag}` : `-nh-dup-${slug(duplicateFor).slice(0, 16)}-${hash(duplicateFor).slice(0, 5)}`;
  return `${source.name.slice(0, 63 - suffix.length).replace(/[-.]+$/, '')}${suffix}`;
}

/** The copy's selector value: stable for the source (and identity), short enough for a label. */
export function copyKey(source: WorkloadName, duplicateFor: string | undefined): string {
  return hash(`${source.kind}/${source.name}${duplicateFor === undefined ? '' : `/${duplicateFor}`}`).slice(0, 12);
}

function slug(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '') || 'me';
}

function hash(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
