/**
 * The dev state saved on the workload (annotation nh.dev/state): who entered dev mode, when, with which
 * config, and the original value of every field nh changed, so any machine can resume or restore.
 */
import { DEV_MODE_LABEL, DEV_STATE_ANNOTATION } from '../model/dev-mode.js';
import type { Json, KubeObject } from '../model/kube-object.js';

/** Container fields dev mode may change; all of them are saved, whatever the config sets. */
export const CONTAINER_FIELDS = [
  'image', 'imagePullPolicy', 'command', 'args', 'workingDir', 'env', 'resources', 'volumeMounts',
  'livenessProbe', 'readinessProbe', 'startupProbe',
] as const;
export type ContainerField = (typeof CONTAINER_FIELDS)[number];

/** A saved original: the value, or null when the field was absent. */
export type Saved = Json | null;

/**
 * A dev copy: the Deployment nh creates to run the dev pod of a Job, CronJob, DaemonSet or bare Pod (the
 * source), or a personal duplicate of any workload. Its state names the source; `nh down` deletes the copy.
 */
export interface CopyOf {
  readonly kind: string;
  readonly name: string;
  /** A duplicate: a personal copy with its own labels, the source left as it is. */
  readonly duplicate: boolean;
  /** Hash of the source's pod template when the copy was made: a changed source updates the copy. */
  readonly sourceHash: string;
  /** DaemonSet: the node the dev pod runs on, where the DaemonSet is held off. */
  readonly node?: string;
  /** Bare Pod: the original Pod as it was, re-created from this by `nh down`. */
  readonly pod?: Json;
  /** A StatefulSet's duplicate: the claims made for it from the volumeClaimTemplates, deleted by `nh down`. */
  readonly claims?: readonly string[];
}

/** A field a config patch may change, with its value before the patch (no `value`: it was absent). */
export interface SavedField {
  readonly path: readonly string[];
  readonly value?: Json;
}

/** The config's patches of this dev workload (plan/user-patches.ts). */
export interface PatchRecord {
  /** False from nh's own write until the last patch is through: a run that stopped between sends them again. */
  readonly applied: boolean;
  /** Every field they may change, with its original value, restored by `nh down`. */
  readonly saved: readonly SavedField[];
}

export interface DevState {
  readonly version: 1;
  readonly service: string;
  /** The app whose config named the service; absent in states written before nh recorded it. */
  readonly app?: string;
  readonly owner: string;
  readonly since: string;
  readonly configHash: string;
  readonly nhVersion: string;
  /** Set on a dev copy; its `original` is then the copy's own starting point, never restored. */
  readonly copy?: CopyOf;
  readonly patches?: PatchRecord;
  readonly original: {
    readonly replicas: Saved;
    /** spec.strategy of a Deployment, spec.updateStrategy of a StatefulSet. */
    readonly strategy: Saved;
    readonly containers: Readonly<Record<string, Readonly<Record<ContainerField, Saved>>>>;
  };
}

export type ReadDevState =
  | { readonly kind: 'absent' }
  | { readonly kind: 'present'; readonly state: DevState; readonly text: string }
  | { readonly kind: 'invalid'; readonly why: string };

export function readDevState(workload: KubeObject): ReadDevState {
  const text = workload.metadata.annotations?.[DEV_STATE_ANNOTATION];
  const labelled = workload.metadata.labels?.[DEV_MODE_LABEL] !== undefined;
  if (text === undefined) {
    return labelled ? { kind: 'invalid', why: `it has the label ${DEV_MODE_LABEL} but no ${DEV_STATE_ANNOTATION} annotation` } : { kind: 'absent' };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { kind: 'invalid', why: `its ${DEV_STATE_ANNOTATION} annotation is not JSON` };
  }
  const why = shapeProblem(parsed);
  return why ? { kind: 'invalid', why: `its ${DEV_STATE_ANNOTATION} annotation ${why}` } : { kind: 'present', state: parsed as DevState, text };
}

export function serializeDevState(state: DevState): string {
  return JSON.stringify(state);
}

function shapeProblem(value: unknown): string | undefined {
  if (!isRecord(value)) return 'is not an object';
  if (value['version'] !== 1) return `has an unknown version (${JSON.stringify(value['version'])})`;
  for (const key of ['service', 'owner', 'since', 'configHash', 'nhVersion']) {
    if (typeof value[key] !== 'string') return `lacks \`${key}\``;
  }
  if (value['app'] !== undefined && typeof value['app'] !== 'string') return 'has an `app` that is not a string';
  const copy = value['copy'];
  if (copy !== undefined && (!isRecord(copy) || typeof copy['kind'] !== 'string' || typeof copy['name'] !== 'string' || typeof copy['sourceHash'] !== 'string')) {
    return 'has a `copy` without the source it copies';
  }
  const patches = value['patches'];
  if (patches !== undefined && (!isRecord(patches) || typeof patches['applied'] !== 'boolean' || !Array.isArray(patches['saved']) ||
    !patches['saved'].every((f) => isRecord(f) && Array.isArray(f['path']) && f['path'].every((k) => typeof k === 'string')))) {
    return 'has `patches` without the fields they change';
  }
  const original = value['original'];
  if (!isRecord(original) || !('replicas' in original) || !('strategy' in original) || !isRecord(original['containers'])) {
    return 'lacks the original values';
  }
  for (const [name, fields] of Object.entries(original['containers'])) {
    if (!isRecord(fields) || CONTAINER_FIELDS.some((f) => !(f in fields))) return `lacks original fields of container \`${name}\``;
  }
  return undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
