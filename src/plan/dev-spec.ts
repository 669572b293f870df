/**
 * The dev-mode transformation of a workload and its inverse, pure. applyDevMode turns the original object
 * into the dev object (with the saved state inside); restoreOriginal rebuilds the original from a dev object.
 */
import type { DesiredContainer, DesiredService } from '../desired/build.js';
import { DEV_MODE_LABEL, DEV_MODE_VALUE, DEV_STATE_ANNOTATION, SERVICE_LABEL, VOLUME_PREFIX, WORKDIR_VOLUME } from '../model/dev-mode.js';
import { cloneJson, type Json, type KubeObject } from '../model/kube-object.js';
import { CONTAINER_FIELDS, serializeDevState, type ContainerField, type CopyOf, type DevState, type Saved } from './dev-state.js';

/**
 * PID 1 of a dev container: blocks forever and exits at once on SIGTERM. `tail -f /dev/null` ignores
 * SIGTERM as PID 1, which makes every switch wait out the termination grace period.
 */
export const DEV_PID1 = ['/bin/sh', '-c', "trap 'exit 0' TERM INT; while :; do sleep 3600 & wait $!; done"] as const;

export interface ContainerSpec {
  name: string;
  [field: string]: unknown;
}

interface VolumeMount {
  name: string;
  mountPath: string;
  [field: string]: unknown;
}

interface PodSpec {
  containers: ContainerSpec[];
  volumes?: { name: string; [field: string]: unknown }[];
  [field: string]: unknown;
}

export interface Workload extends KubeObject {
  metadata: KubeObject['metadata'] & { annotations?: Record<string, string>; labels?: Record<string, string> };
  spec: {
    replicas?: number;
    strategy?: unknown;
    updateStrategy?: unknown;
    template: { metadata?: { labels?: Record<string, string>; [field: string]: unknown }; spec: PodSpec };
    [field: string]: unknown;
  };
}

export interface DevMeta {
  readonly app: string;
  readonly owner: string;
  readonly since: string;
  readonly nhVersion: string;
  readonly copy?: CopyOf;
}

export type DevTransform =
  | { readonly ok: true; readonly target: Workload; readonly volumeClaims: readonly KubeObject[] }
  | { readonly ok: false; readonly message: string; readonly hint: string };

/**
 * Entering dev mode stops the original pod as the dev pod starts: one pod down at a time and no surge, so
 * there is never a second dev pod, and the switch skips the wait for the old pod to be gone (about a second
 * of kubelet latency). A workload that never overlaps its own pods (Recreate, e.g. for a ReadWriteOnce
 * claim) keeps that guarantee in dev mode too.
 */
const ENTER_STRATEGY = { type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: 1 } };
/** Replacing a dev pod by another (a config change): the old one is gone before the new one starts. */
const REPLACE_STRATEGY = { type: 'Recreate' };

/**
 * The strategy of a Deployment already in dev mode: Recreate when its dev pod is about to be replaced, else
 * the dev strategy it has, so that an unchanged service plans as a noop.
 */
export function strategyInDevMode(current: KubeObject, replacesPod: boolean): Json {
  const now = (current as Workload).spec.strategy as { type?: string; rollingUpdate?: { maxSurge?: unknown; maxUnavailable?: unknown } } | undefined;
  const isDevStrategy = now?.type === 'Recreate' ||
    (now?.type === 'RollingUpdate' && String(now.rollingUpdate?.maxSurge) === '0' && String(now.rollingUpdate?.maxUnavailable) === '1');
  return cloneJson(!replacesPod && isDevStrategy ? (now as Json) : REPLACE_STRATEGY);
}

export function strategyKey(kind: string): 'strategy' | 'updateStrategy' {
  return kind === 'StatefulSet' ? 'updateStrategy' : 'strategy';
}

export function applyDevMode(original: KubeObject, desired: DesiredService, meta: DevMeta): DevTransform {
  const target = cloneJson(original) as Workload;
  const kind = desired.workload.kind;
  const podSpec = target.spec.template.spec;
  const resolved = resolveContainers(podSpec.containers, desired);
  if (!resolved.ok) return resolved;

  const savedContainers: Record<string, Record<ContainerField, Saved>> = {};
  const volumes: NonNullable<PodSpec['volumes']> = [];
  const volumeClaims: KubeObject[] = [];
  for (const [position, { container, dev }] of resolved.pairs.entries()) {
    savedContainers[container.name] = saveFields(container);
    const workdirVolume = position === 0 ? WORKDIR_VOLUME : `${WORKDIR_VOLUME}-${position}`;
    const mounts: VolumeMount[] = [];
    let workDirOnClaim = false;
    for (const [index, pv] of dev.persistentVolumeDirs.entries()) {
      const volumeName = `${VOLUME_PREFIX}pv-${position}-${index}`;
      const claimName = claimNameFor(desired.name, container.name, pv.path);
      volumes.push({ name: volumeName, persistentVolumeClaim: { claimName } });
      mounts.push({ name: volumeName, mountPath: pv.path });
      volumeClaims.push(volumeClaim(claimName, desired.name, pv.capacity, dev.storageClass));
      workDirOnClaim ||= pv.path === dev.workDir;
    }
    if (!workDirOnClaim) {
      volumes.push({ name: workdirVolume, emptyDir: {} });
      mounts.push({ name: workdirVolume, mountPath: dev.workDir });
    }
    transformContainer(container, dev, mounts);
  }
  podSpec.volumes = [...(podSpec.volumes ?? []), ...volumes];

  const key = strategyKey(kind);
  const state: DevState = {
    version: 1,
    service: desired.name,
    app: meta.app,
    owner: meta.owner,
    since: meta.since,
    configHash: desired.configHash,
    nhVersion: meta.nhVersion,
    ...(meta.copy ? { copy: meta.copy } : {}),
    original: { replicas: saved(target.spec.replicas), strategy: saved(target.spec[key]), containers: savedContainers },
  };
  target.spec.replicas = 1;
  if (kind === 'Deployment') {
    const overlaps = (target.spec.strategy as { type?: string } | undefined)?.type !== 'Recreate';
    target.spec.strategy = cloneJson(overlaps ? ENTER_STRATEGY : REPLACE_STRATEGY);
  } else if (needsRollingUpdate(target.spec.updateStrategy)) {
    // OnDelete (or a partition) would leave the old pod running with the old template.
    target.spec.updateStrategy = { type: 'RollingUpdate', rollingUpdate: { partition: 0 } };
  }
  const template = (target.spec.template.metadata ??= {});
  template.labels = { ...template.labels, [DEV_MODE_LABEL]: DEV_MODE_VALUE };
  target.metadata.labels = { ...target.metadata.labels, [DEV_MODE_LABEL]: DEV_MODE_VALUE };
  target.metadata.annotations = { ...target.metadata.annotations, [DEV_STATE_ANNOTATION]: serializeDevState(state) };
  return { ok: true, target, volumeClaims };
}

/** The workload as it was before dev mode: saved fields put back, nh's volumes, labels and annotation removed. */
export function restoreOriginal(observed: KubeObject, state: DevState, kind: string): { ok: true; original: Workload } | { ok: false; message: string } {
  const original = cloneJson(observed) as Workload;
  const podSpec = original.spec.template.spec;
  for (const [name, fields] of Object.entries(state.original.containers)) {
    const container = podSpec.containers.find((c) => c.name === name);
    if (!container) return { ok: false, message: `container \`${name}\` named in the saved state is no longer in the workload` };
    for (const field of CONTAINER_FIELDS) put(container, field, fields[field]);
  }
  const volumes = (podSpec.volumes ?? []).filter((v) => !v.name.startsWith(VOLUME_PREFIX));
  if (volumes.length) podSpec.volumes = volumes;
  else delete podSpec.volumes;
  put(original.spec, 'replicas', state.original.replicas);
  put(original.spec, strategyKey(kind), state.original.strategy);
  dropKey((original.spec.template.metadata ?? {}), 'labels', DEV_MODE_LABEL);
  dropKey(original.metadata, 'labels', DEV_MODE_LABEL);
  dropKey(original.metadata, 'annotations', DEV_STATE_ANNOTATION);
  return { ok: true, original };
}

type Resolved =
  | { readonly ok: true; readonly pairs: readonly { container: ContainerSpec; dev: DesiredContainer }[] }
  | { readonly ok: false; readonly message: string; readonly hint: string };

function resolveContainers(containers: ContainerSpec[], desired: DesiredService): Resolved {
  const pairs: { container: ContainerSpec; dev: DesiredContainer }[] = [];
  const names = containers.map((c) => c.name);
  for (const dev of desired.containers) {
    const container = dev.name === undefined ? containers[0] : containers.find((c) => c.name === dev.name);
    if (!container) {
      return { ok: false, message: `${desired.workload.kind} \`${desired.workload.name}\` has no container \`${dev.name}\``, hint: `its containers: ${names.join(', ')}` };
    }
    if (pairs.some((p) => p.container === container)) {
      return { ok: false, message: `the config names container \`${container.name}\` of service \`${desired.name}\` twice`, hint: 'give each container entry its own name' };
    }
    if (dev.image === undefined) {
      return { ok: false, message: `no dev image for container \`${container.name}\` of service \`${desired.name}\``, hint: 'set containers[].dev.image in the config' };
    }
    pairs.push({ container, dev });
  }
  return { ok: true, pairs };
}

function transformContainer(container: ContainerSpec, dev: DesiredContainer, mounts: readonly VolumeMount[]): void {
  container['image'] = dev.image;
  if (dev.imagePullPolicy) container['imagePullPolicy'] = dev.imagePullPolicy;
  container['command'] = [...DEV_PID1];
  delete container['args'];
  container['workingDir'] = dev.workDir;
  if (dev.env.length) {
    const names = new Set(dev.env.map((e) => e.name));
    const kept = ((container['env'] as { name: string }[] | undefined) ?? []).filter((e) => !names.has(e.name));
    container['env'] = [...kept, ...dev.env.map((e) => ({ name: e.name, value: e.value }))];
  }
  if (dev.resources) container['resources'] = cloneJson(dev.resources);
  // A mount of the image at a dev path would hide the synced tree (and the API rejects duplicate paths).
  const paths = new Set(mounts.map((m) => m.mountPath));
  const kept = ((container['volumeMounts'] as VolumeMount[] | undefined) ?? []).filter((m) => !paths.has(m.mountPath));
  container['volumeMounts'] = [...kept, ...mounts];
  // Probes of the production process would kill a container that runs no server yet.
  delete container['livenessProbe'];
  delete container['readinessProbe'];
  delete container['startupProbe'];
}

function needsRollingUpdate(strategy: unknown): boolean {
  const s = strategy as { type?: string; rollingUpdate?: { partition?: number } } | undefined;
  return s?.type === 'OnDelete' || (s?.rollingUpdate?.partition ?? 0) > 0;
}

function saveFields(container: ContainerSpec): Record<ContainerField, Saved> {
  return Object.fromEntries(CONTAINER_FIELDS.map((f) => [f, saved(container[f])])) as Record<ContainerField, Saved>;
}

/** Values are taken from a private copy that is only ever reassigned, never changed in place: no copy needed. */
function saved(value: unknown): Saved {
  return value === undefined ? null : (value as Json);
}

function put(object: Record<string, unknown>, key: string, value: Saved): void {
  if (value === null) delete object[key];
  else object[key] = value;
}

interface Labelled {
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

function dropKey(object: Labelled, mapKey: keyof Labelled, key: string): void {
  const map = object[mapKey];
  if (!map || !(key in map)) return;
  const rest = { ...map };
  delete rest[key];
  object[mapKey] = rest;
}

/** One claim per service, container and path; the name is stable so later runs reuse it. */
function claimNameFor(service: string, container: string, path: string): string {
  return `${service}-${container}-${shortHash(path)}`.slice(0, 253);
}

function volumeClaim(name: string, service: string, capacity: string, storageClass: string | undefined): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name, labels: { [SERVICE_LABEL]: service } },
    spec: {
      accessModes: ['ReadWriteOnce'],
      resources: { requests: { storage: capacity } },
      ...(storageClass ? { storageClassName: storageClass } : {}),
    },
  };
}

/** FNV-1a, 8 hex digits: short, stable, no crypto needed. */
function shortHash(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(16).padStart(8, '0');
}
