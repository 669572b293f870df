/**
 * Path safety, pure. Every path that leaves nh for the container (a tar entry name, a path to delete) is a
 * relative POSIX path checked here first: no absolute path, no `..`, no `.` or empty segment, and no byte
 * the line-based agent protocol or a tar header could misread.
 */
export type PathProblem = 'empty' | 'absolute' | 'parent-segment' | 'dot-segment' | 'empty-segment' | 'control-character';

/** Why a relative path may not be written in the container, or undefined when it may. */
export function pathProblem(path: string): PathProblem | undefined {
  if (path === '') return 'empty';
  if (path.startsWith('/')) return 'absolute';
  // A newline would split a line of the container's listing; NUL ends a C string early.
  if (/[\0\n\r]/.test(path)) return 'control-character';
  for (const segment of path.split('/')) {
    if (segment === '..') return 'parent-segment';
    if (segment === '.') return 'dot-segment';
    if (segment === '') return 'empty-segment';
  }
  return undefined;
}

export class UnsafePathError extends Error {
  constructor(readonly path: string, readonly problem: PathProblem) {
    super(`refusing to write ${JSON.stringify(path)} in the container (${problem})`);
    this.name = 'UnsafePathError';
  }
}

/** The last guard before a path reaches the container: throws on anything pathProblem() rejects. */
export function assertSafePath(path: string): string {
  const problem = pathProblem(path);
  if (problem) throw new UnsafePathError(path, problem);
  return path;
}

/** A path relative to the sync root from an OS path below it (separators normalized), or undefined when outside. */
export function relativeToRoot(root: string, absolute: string, separator = '/'): string | undefined {
  const prefix = root.endsWith(separator) ? root : root + separator;
  if (!absolute.startsWith(prefix)) return undefined;
  const rel = absolute.slice(prefix.length).split(separator).join('/');
  return pathProblem(rel) ? undefined : rel;
}

/** `a/b/c` → [`a`, `a/b`]: the directories above a relative path, outermost first. */
export function ancestorsOf(path: string): string[] {
  const parts = path.split('/');
  return parts.slice(0, -1).map((_, i) => parts.slice(0, i + 1).join('/'));
}

/** True when `path` is `dir` or lies below it. */
export function isWithin(path: string, dir: string): boolean {
  return path === dir || path.startsWith(dir + '/');
}
