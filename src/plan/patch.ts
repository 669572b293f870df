/**
 * Turning "observed object → target object" into a JSON patch over the fields dev mode manages, and naming
 * those fields for people. Comparisons are semantic: object key order, quantity spelling ("0.5" = "500m")
 * and the state annotation's JSON layout do not count as changes.
 */
import { DEV_MODE_LABEL, DEV_STATE_ANNOTATION } from '../model/dev-mode.js';
import type { JsonPatchOp, KubeObject } from '../model/kube-object.js';
import { CONTAINER_FIELDS } from './dev-state.js';
import { strategyKey, type Workload } from './dev-spec.js';

type Path = readonly (string | number)[];

export interface WorkloadDiff {
  readonly ops: readonly JsonPatchOp[];
  readonly fields: readonly string[];
}

/** Paths dev mode may touch on a workload of this kind (containers by their index in observed). */
export function managedPaths(observed: KubeObject, kind: string): Path[] {
  const containers = (observed as Workload).spec.template.spec.containers;
  return [
    ['metadata', 'labels', DEV_MODE_LABEL],
    ['metadata', 'annotations', DEV_STATE_ANNOTATION],
    ['spec', 'replicas'],
    ['spec', strategyKey(kind)],
    ['spec', 'template', 'metadata', 'labels', DEV_MODE_LABEL],
    ['spec', 'template', 'spec', 'volumes'],
    ...containers.flatMap((_, i) => CONTAINER_FIELDS.map((f): Path => ['spec', 'template', 'spec', 'containers', i, f])),
  ];
}

/** The JSON patch turning observed into target on the given paths; parents that do not exist are added whole. */
export function diffPaths(observed: unknown, target: unknown, paths: readonly Path[], names: (path: Path) => string): WorkloadDiff {
  const ops: JsonPatchOp[] = [];
  const fields: string[] = [];
  const created: Path[] = [];
  for (const path of paths) {
    if (created.some((prefix) => startsWith(path, prefix))) continue;
    const before = getAt(observed, path);
    const after = getAt(target, path);
    if (sameValue(path, before, after)) continue;
    fields.push(names(path));
    if (after === undefined) {
      ops.push({ op: 'remove', path: pointer(path) });
      continue;
    }
    // JSON patch `add` needs the parent; add the first missing ancestor with its whole target subtree.
    let at = path.length;
    while (at > 1 && !isContainer(getAt(observed, path.slice(0, at - 1)))) at--;
    const addAt = path.slice(0, at);
    if (at < path.length) created.push(addAt);
    ops.push({ op: 'add', path: pointer(addAt), value: getAt(target, addAt) });
  }
  return { ops, fields };
}

/** `containers[api].image`, `spec.replicas`, `labels[nh.dev/mode]`: how plan output names a path. */
export function fieldName(observed: KubeObject): (path: Path) => string {
  const containers = (observed as Workload).spec.template.spec.containers;
  return (path) => {
    if (path[3] === 'containers' && typeof path[4] === 'number') return `containers[${containers[path[4]]?.name}].${String(path[5])}`;
    if (path[0] === 'metadata') return `metadata.${String(path[1])}[${String(path[2])}]`;
    if (path[2] === 'metadata') return `template.labels[${String(path[4])}]`;
    if (path[2] === 'spec') return `template.spec.${String(path[3])}`;
    return path.join('.');
  };
}

export function pointer(path: Path): string {
  return '/' + path.map((p) => String(p).replace(/~/g, '~0').replace(/\//g, '~1')).join('/');
}

export function getAt(value: unknown, path: Path): unknown {
  let current = value;
  for (const key of path) {
    if (!isContainer(current)) return undefined;
    current = (current as Record<string | number, unknown>)[key];
  }
  return current;
}

function sameValue(path: Path, a: unknown, b: unknown): boolean {
  if (path.at(-1) === DEV_STATE_ANNOTATION && typeof a === 'string' && typeof b === 'string') return a === b || deepEqual(parseOr(a), parseOr(b));
  return deepEqual(a, b, path.at(-1) === 'resources');
}

export function deepEqual(a: unknown, b: unknown, quantities = false): boolean {
  if (a === b) return true;
  if (quantities && typeof a === 'string' && typeof b === 'string') return sameQuantity(a, b);
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => deepEqual(x, b[i], quantities));
  }
  if (!isContainer(a) || !isContainer(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k) => k in b && deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], quantities));
}

const SUFFIXES: Readonly<Record<string, number>> = {
  '': 1, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};

/** Kubernetes quantities are compared by value: the API server rewrites "0.5" as "500m", "1000m" as "1". */
export function sameQuantity(a: string, b: string): boolean {
  const x = quantityValue(a);
  const y = quantityValue(b);
  return x !== undefined && y !== undefined ? Math.abs(x - y) <= 1e-9 * Math.max(Math.abs(x), Math.abs(y), 1) : a === b;
}

function quantityValue(q: string): number | undefined {
  const m = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:([eE][+-]?\d+)|(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?)$/.exec(q.trim());
  if (!m) return undefined;
  const base = Number(m[1]) * (m[2] ? Number(`1${m[2]}`) : 1);
  return base * SUFFIXES[m[3] ?? '']!;
}

function parseOr(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function isContainer(value: unknown): value is object {
  return typeof value === 'object' && value !== null;
}

function startsWith(path: Path, prefix: Path): boolean {
  return prefix.length <= path.length && prefix.every((p, i) => p === path[i]);
}
