/**
 * `containers[].dev.patches`: the text of each patch read as kubectl reads it (JSON or YAML), and checked
 * for the shape its type needs. Pure; nh never merges a patch itself (the API server does), it only needs
 * the document to know which fields a patch may touch (plan/user-patches.ts).
 */
import { parseDocument } from 'yaml';

export type PatchType = 'json' | 'merge' | 'strategic';

export type ReadPatch =
  | { readonly ok: true; readonly body: unknown }
  | { readonly ok: false; readonly message: string; readonly hint: string };

const JSON_OPS = new Set(['add', 'remove', 'replace', 'move', 'copy', 'test']);

/** Fields a patch may not change: the object's identity and nh's own marks (its dev state lives there). */
const PROTECTED: readonly (readonly string[])[] = [
  ['apiVersion'], ['kind'], ['status'],
  ['metadata', 'name'], ['metadata', 'namespace'], ['metadata', 'uid'], ['metadata', 'resourceVersion'],
  ['metadata', 'labels', 'nh.dev/'], ['metadata', 'annotations', 'nh.dev/'],
];

export function readPatch(text: string, type: PatchType): ReadPatch {
  if (text.trim() === '') return { ok: false, message: 'the patch is empty', hint: 'write the patch as JSON or YAML text, or remove the entry' };
  const doc = parseDocument(text, { uniqueKeys: true });
  const error = doc.errors[0];
  if (error) {
    const where = error.linePos?.[0];
    return {
      ok: false,
      message: `the patch is not valid JSON or YAML${where ? ` (line ${where.line}, column ${where.col} of the patch)` : ''}: ${error.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}`,
      hint: 'quote the whole patch as one string, e.g. patch: \'{"spec":{…}}\', or use a block scalar (patch: |)',
    };
  }
  const body: unknown = doc.toJS();
  const shape = type === 'json' ? jsonPatchProblem(body) : mergePatchProblem(body, type);
  if (shape) return { ok: false, ...shape };
  const touched = protectedField(type, body);
  if (touched) {
    return { ok: false, message: `the patch changes \`${touched}\`, which nh keeps for itself`, hint: 'patch the pod template, replicas, labels or annotations of your own instead' };
  }
  return { ok: true, body };
}

function jsonPatchProblem(body: unknown): { message: string; hint: string } | undefined {
  const hint = 'a json patch is a list of operations, e.g. [{"op": "add", "path": "/spec/template/spec/hostNetwork", "value": true}]';
  if (!Array.isArray(body)) return { message: 'a `json` patch must be a list of operations', hint };
  for (const [i, op] of body.entries()) {
    if (!isRecord(op) || typeof op['op'] !== 'string' || !JSON_OPS.has(op['op'])) {
      return { message: `operation ${i + 1} of the patch has no \`op\` (add, remove, replace, move, copy or test)`, hint };
    }
    if (typeof op['path'] !== 'string' || !/^(\/[^/]*)+$/.test(op['path'])) {
      return { message: `operation ${i + 1} of the patch needs a \`path\` such as /spec/replicas`, hint };
    }
    if (['add', 'replace', 'test'].includes(op['op']) && !('value' in op)) return { message: `operation ${i + 1} (${op['op']}) of the patch has no \`value\``, hint };
    if (['move', 'copy'].includes(op['op']) && (typeof op['from'] !== 'string' || !/^(\/[^/]*)+$/.test(op['from']))) {
      return { message: `operation ${i + 1} (${op['op']}) of the patch needs a \`from\` path`, hint };
    }
  }
  return undefined;
}

function mergePatchProblem(body: unknown, type: PatchType): { message: string; hint: string } | undefined {
  if (isRecord(body)) return undefined;
  return { message: `a \`${type}\` patch must be a mapping such as {"spec": {…}}`, hint: 'for a list of operations set `type: json`' };
}

/** The first protected field the patch would write, as `metadata.labels.nh.dev/mode`. */
function protectedField(type: PatchType, body: unknown): string | undefined {
  if (type === 'json') {
    for (const op of body as { op: string; path: string; from?: string }[]) {
      for (const pointer of op.op === 'test' ? [] : op.op === 'move' ? [op.path, op.from!] : [op.path]) {
        const hit = protectedBy(splitPointer(pointer), true);
        if (hit) return hit;
      }
    }
    return undefined;
  }
  return protectedInDocument(body as Record<string, unknown>, []);
}

function protectedInDocument(doc: Record<string, unknown>, at: readonly string[]): string | undefined {
  for (const [key, value] of Object.entries(doc)) {
    // A directive ($patch: replace, $retainKeys, …) rewrites the whole mapping it sits in.
    const path = key.startsWith('$') ? at : [...at, key];
    const replaces = key.startsWith('$') || !isRecord(value);
    const hit = protectedBy(path, replaces);
    if (hit) return hit;
    if (!replaces) {
      const inner = protectedInDocument(value, path);
      if (inner) return inner;
    }
  }
  return undefined;
}

/** Whether writing `path` (all of it, when `whole`) reaches a protected field. */
function protectedBy(path: readonly string[], whole: boolean): string | undefined {
  for (const guarded of PROTECTED) {
    const last = guarded.length - 1;
    const matches = (i: number) => (i === last && guarded[i]!.endsWith('/') ? path[i]!.startsWith(guarded[i]!) : path[i] === guarded[i]);
    if (path.length >= guarded.length && guarded.every((_, i) => matches(i))) return path.join('.');
    if (whole && path.length < guarded.length && path.every((_, i) => matches(i))) return path.join('.') || 'the whole object';
  }
  return undefined;
}

export function splitPointer(pointer: string): string[] {
  return pointer.split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
