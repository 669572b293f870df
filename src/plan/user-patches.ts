/**
 * The config's own patches (`containers[].dev.patches`), pure. The API server applies them (a strategic
 * merge needs the kind's patch strategy, which only it knows), so nh computes no merge result: it reads from
 * each patch document which fields it may change, as paths cut at the first list or absent field, and saves
 * the original value at each in the dev state before the patches are sent. `nh down` puts exactly those back.
 */
import type { DevPatch } from '../config/model.js';
import type { DesiredService } from '../desired/build.js';
import { splitPointer } from '../config/patches.js';
import { DEV_STATE_ANNOTATION } from '../model/dev-mode.js';
import { cloneJson, type Json, type KubeObject } from '../model/kube-object.js';
import type { DevState, PatchRecord, SavedField } from './dev-state.js';
import { getAt } from './patch.js';
import type { ServicePlan } from './types.js';

export type FieldPath = readonly string[];

/** Every field the patches may change on `base`, nested paths folded into their ancestors. */
export function patchedPaths(patches: readonly DevPatch[], base: unknown): FieldPath[] {
  return outermost(patches.flatMap((patch) => touchedBy(patch, base)));
}

function touchedBy(patch: DevPatch, base: unknown): FieldPath[] {
  if (patch.type === 'json') {
    return (patch.body as { op: string; path: string; from?: string }[]).flatMap((op) => {
      if (op.op === 'test') return [];
      const pointers = op.op === 'move' ? [op.path, op.from!] : [op.path];
      return pointers.map((p) => cut(splitPointer(p), base));
    });
  }
  return documentPaths(patch.body as Record<string, unknown>, [], base);
}

/** A merge document's leaves; a mapping that does not exist yet, a list or a directive counts whole. */
function documentPaths(doc: Record<string, unknown>, at: FieldPath, base: unknown): FieldPath[] {
  if (Object.keys(doc).some((k) => k.startsWith('$'))) return [at];
  return Object.entries(doc).flatMap(([key, value]) => {
    const path = [...at, key];
    return isRecord(value) && isRecord(getAt(base, path)) ? documentPaths(value, path, base) : [path];
  });
}

/** The path cut after its first segment that is absent from `base` or not a mapping (lists count whole). */
function cut(path: FieldPath, base: unknown): FieldPath {
  let node = base;
  for (let i = 0; i < path.length; i++) {
    if (!isRecord(node)) return path.slice(0, i);
    node = node[path[i]!];
    if (!isRecord(node)) return path.slice(0, i + 1);
  }
  return path;
}

type AnyPath = readonly (string | number)[];

/** Paths without those nested in another one (the outer one covers them). */
export function outermost<P extends AnyPath>(paths: readonly P[]): P[] {
  const unique = [...new Map(paths.map((p) => [p.map(String).join('\u0000'), p])).values()];
  return unique.filter((p) => !unique.some((q) => q !== p && isPrefix(q, p)));
}

export interface Patching<T> {
  /** The dev object once patched: its state says so (what a finished run leaves). */
  readonly patched: T;
  /** What nh's own write sends: the same, its state saying the patches are still to come. */
  readonly unpatched: T;
  /** Fields the writes may have to put back first: what these patches and the previous ones may change. */
  readonly touched: readonly FieldPath[];
}

/**
 * The dev object with the patch record in its state. `base` is the object the patches land on, without nh's
 * change (in place: the original workload; a dev copy: the copy as nh builds it); `previous` the fields the
 * patches of an earlier run may have changed.
 */
export function planPatching<T extends KubeObject>(target: T, base: unknown, patches: readonly DevPatch[], previous: readonly SavedField[] | undefined): Patching<T> {
  const paths = patchedPaths(patches, base);
  const touched = outermost([...paths, ...(previous ?? []).map((f) => f.path)]);
  if (patches.length === 0) return { patched: target, unpatched: target, touched };
  const saved = savedFields(base, paths);
  return { patched: withPatchRecord(target, { applied: true, saved }), unpatched: withPatchRecord(target, { applied: false, saved }), touched };
}

/** Whether two paths are the same field or one contains the other. */
export function overlaps(a: AnyPath, b: AnyPath): boolean {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (String(a[i]) !== String(b[i])) return false;
  return true;
}

function savedFields(base: unknown, paths: readonly FieldPath[]): SavedField[] {
  return paths.map((path) => {
    const value = getAt(base, path);
    return value === undefined ? { path } : { path, value: cloneJson(value as Json) };
  });
}

/** The object with each saved field put back (absent ones removed). */
export function putSaved<T extends KubeObject>(object: T, saved: readonly SavedField[]): T {
  const copy = cloneJson(object) as Record<string, unknown>;
  for (const { path, value } of saved) {
    let node = copy;
    for (const key of path.slice(0, -1)) {
      if (!isRecord(node[key])) {
        if (value === undefined) break;
        node[key] = {};
      }
      node = node[key] as Record<string, unknown>;
    }
    const last = path.at(-1)!;
    if (value === undefined) delete node[last];
    else node[last] = cloneJson(value);
  }
  return copy as T;
}

/** The object with its dev state annotation carrying the patch record. */
function withPatchRecord<T extends KubeObject>(object: T, record: PatchRecord): T {
  const copy = cloneJson(object);
  const annotations = copy.metadata.annotations as Record<string, string>;
  const state = JSON.parse(annotations[DEV_STATE_ANNOTATION]!) as DevState;
  annotations[DEV_STATE_ANNOTATION] = JSON.stringify({ ...state, patches: record });
  return copy;
}

/** `patch 1 (strategic, .nocalhost/config.yaml:30:18): template.spec.hostAliases`. */
export function describePatches(patches: readonly DevPatch[], base: unknown, name: (path: FieldPath) => string): string[] {
  return patches.map((patch, i) => `patch ${i + 1} (${patch.type}, ${patch.at}): ${outermost(touchedBy(patch, base)).map(name).join(', ') || 'nothing'}`);
}

function isPrefix(prefix: AnyPath, path: AnyPath): boolean {
  return prefix.length <= path.length && prefix.every((p, i) => String(p) === String(path[i]));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The config's patches and the state that says they went through, for the executor to send after nh's write. */
export function userPatchesOf(service: DesiredService, patched: KubeObject): Pick<ServicePlan, 'userPatches'> {
  if (service.patches.length === 0) return {};
  return { userPatches: { patches: service.patches, patchedState: patched.metadata.annotations![DEV_STATE_ANNOTATION]! } };
}
