/**
 * Holding the source of a dev copy while the copy runs, pure: a CronJob is suspended, a DaemonSet is kept
 * off the one node where the dev pod runs. The original value of every field the hold changes is saved in
 * the source's own `nh.dev/held` annotation in the same conditional patch, so releasing puts exactly those
 * values back from whatever machine runs `nh down`.
 */
import { DEV_MODE_LABEL, DEV_MODE_VALUE, HELD_ANNOTATION } from '../model/dev-mode.js';
import { cloneJson, type Json, type JsonPatchOp, type KubeObject } from '../model/kube-object.js';
import type { Saved } from './dev-state.js';
import { deepEqual, getAt, pointer } from './patch.js';

export interface HeldState {
  readonly service: string;
  readonly owner: string;
  /** DaemonSet: the node it is kept off (where the dev pod runs). */
  readonly node?: string;
  /** JSON pointer → original value (null: the field was absent). */
  readonly fields: Readonly<Record<string, Saved>>;
}

/** What holding a source sets: JSON pointer → the value while held. */
export type Hold = Readonly<Record<string, Json>>;

/** The node-name key the scheduler and the DaemonSet controller match with `matchFields`. */
const NODE_NAME_FIELD = 'metadata.name';

/** What a source of this kind needs while its dev copy runs; undefined = nothing (a Job, a bare Pod, a duplicate). */
export function holdFor(kind: string, source: KubeObject, node: string | undefined): Hold | undefined {
  if (kind === 'CronJob') return { '/spec/suspend': true };
  if (kind === 'DaemonSet' && node !== undefined) {
    const affinity = getAt(released(source), ['spec', 'template', 'spec', 'affinity']) as Json | undefined;
    // OnDelete: the controller deletes the pod on the excluded node (it no longer fits) but does not roll the
    // pods on every other node for the changed template, so teammates' pods keep running untouched.
    return { '/spec/template/spec/affinity': excludeNode(affinity, node), '/spec/updateStrategy': { type: 'OnDelete' } };
  }
  return undefined;
}

export function readHeld(source: KubeObject): HeldState | undefined {
  const text = source.metadata.annotations?.[HELD_ANNOTATION];
  if (text === undefined) return undefined;
  try {
    const parsed = JSON.parse(text) as HeldState;
    return typeof parsed.fields === 'object' && parsed.fields !== null ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** The patch ops that hold the source (none when it is already held as wanted). */
export function holdOps(source: KubeObject, hold: Hold, who: Omit<HeldState, 'fields'>): JsonPatchOp[] {
  const held = readHeld(source);
  const ops: JsonPatchOp[] = [];
  const changed = Object.entries(hold).filter(([path, value]) => !deepEqual(valueAt(source, path), value));
  if (!held) {
    const fields = Object.fromEntries(Object.keys(hold).map((path) => [path, cloneJson(valueAt(source, path) ?? null)]));
    ops.push(annotationOp(source, JSON.stringify({ ...who, fields } satisfies HeldState)));
    // The dev label makes the app's install leave the source as it is (held) until `nh down`, as for a dev workload.
    ops.push(source.metadata.labels
      ? { op: 'add', path: pointer(['metadata', 'labels', DEV_MODE_LABEL]), value: DEV_MODE_VALUE }
      : { op: 'add', path: '/metadata/labels', value: { [DEV_MODE_LABEL]: DEV_MODE_VALUE } });
  }
  for (const [path, value] of changed) ops.push({ op: 'add', path, value });
  return ops;
}

/** The patch ops that put the saved values back and drop the annotation; none when the source is not held. */
export function releaseOps(source: KubeObject): JsonPatchOp[] {
  const held = readHeld(source);
  if (!held && source.metadata.annotations?.[HELD_ANNOTATION] === undefined) return [];
  const ops: JsonPatchOp[] = [{ op: 'remove', path: pointer(['metadata', 'annotations', HELD_ANNOTATION]) }];
  if (source.metadata.labels?.[DEV_MODE_LABEL] !== undefined) ops.push({ op: 'remove', path: pointer(['metadata', 'labels', DEV_MODE_LABEL]) });
  for (const [path, original] of Object.entries(held?.fields ?? {})) {
    if (original !== null) ops.push({ op: 'add', path, value: original });
    else if (valueAt(source, path) !== undefined) ops.push({ op: 'remove', path });
  }
  return ops;
}

/** The source as it is without the hold: for hashing its pod template and for quota. */
export function released(source: KubeObject): KubeObject {
  const held = readHeld(source);
  if (!held) return source;
  const copy = cloneJson(source) as unknown as Record<string, unknown>;
  for (const [path, original] of Object.entries(held.fields)) setAt(copy, path, original);
  return copy as unknown as KubeObject;
}

/**
 * Node affinity that keeps pods off one node: every required term (they are ORed) gets a `metadata.name
 * NotIn [node]` field match (ANDed within a term); no terms → one term with just that.
 */
export function excludeNode(affinity: Json | undefined, node: string): Json {
  const next = cloneJson((affinity ?? {}) as Record<string, Json>) as Record<string, Record<string, Json>>;
  const nodeAffinity = (next['nodeAffinity'] ??= {});
  const required = (nodeAffinity['requiredDuringSchedulingIgnoredDuringExecution'] ?? { nodeSelectorTerms: [] }) as { nodeSelectorTerms: Record<string, Json[]>[] };
  const exclusion = { key: NODE_NAME_FIELD, operator: 'NotIn', values: [node] };
  const terms = required.nodeSelectorTerms.length ? required.nodeSelectorTerms : [{}];
  nodeAffinity['requiredDuringSchedulingIgnoredDuringExecution'] = {
    ...required,
    nodeSelectorTerms: terms.map((term) => ({ ...term, matchFields: [...(term['matchFields'] ?? []), exclusion] })),
  };
  return next;
}

/** Node affinity that places a pod on exactly one node, as the DaemonSet controller does for its own pods. */
export function onlyOnNode(affinity: Json | undefined, node: string): Json {
  const next = cloneJson((affinity ?? {}) as Record<string, Json>) as Record<string, Record<string, Json>>;
  (next['nodeAffinity'] ??= {})['requiredDuringSchedulingIgnoredDuringExecution'] = {
    nodeSelectorTerms: [{ matchFields: [{ key: NODE_NAME_FIELD, operator: 'In', values: [node] }] }],
  };
  return next;
}

function annotationOp(source: KubeObject, text: string): JsonPatchOp {
  return source.metadata.annotations
    ? { op: 'add', path: pointer(['metadata', 'annotations', HELD_ANNOTATION]), value: text }
    : { op: 'add', path: '/metadata/annotations', value: { [HELD_ANNOTATION]: text } };
}

function keysOf(path: string): string[] {
  return path.split('/').slice(1).map((k) => k.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function valueAt(object: KubeObject, path: string): Json | undefined {
  return getAt(object, keysOf(path)) as Json | undefined;
}

function setAt(object: Record<string, unknown>, path: string, value: Saved): void {
  const keys = keysOf(path);
  const last = keys.pop()!;
  let parent = object;
  for (const key of keys) parent = (parent[key] ??= {}) as Record<string, unknown>;
  if (value === null) delete parent[last];
  else parent[last] = value;
}
