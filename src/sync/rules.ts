/**
 * Which local paths a service syncs, pure. Paths are relative to the sync root, POSIX-separated.
 *
 * Semantics (every pattern uses .gitignore syntax, matched by the `ignore` package exactly as git does):
 * - `filePattern` is a whitelist. A pattern without a slash matches a name at any depth (`*.go`), one with a
 *   slash is anchored at the root (`src/api`), a leading `./` anchors too (`./src` = `/src`), and `.` means
 *   everything. A pattern naming a directory includes everything below it.
 * - `ignoreFilePattern` removes paths from that whitelist, with the same syntax; an ignored directory
 *   takes everything below it along.
 * - Built-in ignores, always on: `.git`, editor swap and backup files (`*.swp`, `*.swx`, `*.swo`, `*~`,
 *   `.#*`) and vim's write probe `4913`.
 * - `mode: gitIgnore` also honours every `.gitignore` in the tree, each relative to its directory, deeper
 *   files overriding shallower ones, and a directory ignored by one ignoring all below it (as git does).
 * A path is synced when it is whitelisted and not ignored. Paths that are not synced are never written or
 * deleted in the container: what the container makes there itself (node_modules, build output) stays.
 */
import ignore, { type Ignore } from 'ignore';
import { ancestorsOf } from './paths.js';

export const BUILTIN_IGNORES: readonly string[] = ['.git', '*.swp', '*.swx', '*.swo', '*~', '.#*', '4913'];

export interface RuleSettings {
  readonly mode: 'pattern' | 'gitIgnore';
  readonly filePatterns: readonly string[];
  readonly ignorePatterns: readonly string[];
}

/** Nocalhost pattern → .gitignore pattern: `.` is everything, a leading `./` anchors at the root. */
export function toGitignorePattern(pattern: string): string {
  const trimmed = pattern.trim();
  if (trimmed === '.' || trimmed === './') return '*';
  return trimmed.startsWith('./') ? `/${trimmed.slice(2)}` : trimmed;
}

export class SyncRules {
  private readonly whitelist: Ignore;
  private readonly ignores: Ignore;
  private readonly gitignores: ReadonlyMap<string, Ignore>;
  private readonly gitignoreDirs: readonly string[];
  private readonly dirVerdicts = new Map<string, boolean>();

  private constructor(
    readonly settings: RuleSettings,
    private readonly gitignoreTexts: ReadonlyMap<string, string>,
  ) {
    this.whitelist = ignore().add(settings.filePatterns.map(toGitignorePattern));
    this.ignores = ignore().add([...BUILTIN_IGNORES, ...settings.ignorePatterns.map(toGitignorePattern)]);
    const compiled = settings.mode === 'gitIgnore' ? [...gitignoreTexts].map(([dir, text]) => [dir, ignore().add(text)] as const) : [];
    this.gitignores = new Map(compiled);
    // Outermost first, so deeper files are consulted last and win.
    this.gitignoreDirs = [...this.gitignores.keys()].sort((a, b) => depth(a) - depth(b));
  }

  static compile(settings: RuleSettings, gitignores: ReadonlyMap<string, string> = new Map()): SyncRules {
    return new SyncRules(settings, gitignores);
  }

  /** The same rules with the .gitignore of `dir` (relative, '' = root) set to `text`, or removed when undefined. */
  withGitignore(dir: string, text: string | undefined): SyncRules {
    const next = new Map(this.gitignoreTexts);
    if (text === undefined) next.delete(dir);
    else next.set(dir, text);
    return new SyncRules(this.settings, next);
  }

  /**
   * Directory names ignored at any depth that no pattern can bring back (there is no negation): the
   * container's listing need not enter them (a container's own node_modules can hold 100,000 files).
   */
  prunableNames(): string[] {
    const patterns = [...BUILTIN_IGNORES, ...this.settings.ignorePatterns.map(toGitignorePattern)];
    if (patterns.some((p) => p.startsWith('!'))) return [];
    return patterns.filter((p) => /^[^/*?[\]\\!#\s]+\/?$/.test(p)).map((p) => p.replace(/\/$/, ''));
  }

  get usesGitignore(): boolean {
    return this.settings.mode === 'gitIgnore';
  }

  /** True when the path is synced: whitelisted and not ignored. */
  selects(path: string, isDir: boolean): boolean {
    return this.whitelist.ignores(asTested(path, isDir)) && !this.isIgnored(path, isDir);
  }

  /** True when the path, or a directory above it, is ignored; the walker and watcher skip such directories. */
  isIgnored(path: string, isDir: boolean): boolean {
    if (this.ignores.ignores(asTested(path, isDir))) return true;
    if (this.gitignoreDirs.length === 0) return false;
    return ancestorsOf(path).some((dir) => this.gitVerdictOfDir(dir)) || this.gitVerdict(path, isDir);
  }

  private gitVerdictOfDir(dir: string): boolean {
    let verdict = this.dirVerdicts.get(dir);
    if (verdict === undefined) {
      verdict = this.gitVerdict(dir, true);
      this.dirVerdicts.set(dir, verdict);
    }
    return verdict;
  }

  /** The decision of the deepest .gitignore with a rule for the path itself (parents are checked apart). */
  private gitVerdict(path: string, isDir: boolean): boolean {
    let ignored = false;
    for (const dir of this.gitignoreDirs) {
      if (dir !== '' && !path.startsWith(dir + '/')) continue;
      const local = dir === '' ? path : path.slice(dir.length + 1);
      const result = this.gitignores.get(dir)!.test(asTested(local, isDir));
      if (result.ignored) ignored = true;
      else if (result.unignored) ignored = false;
    }
    return ignored;
  }
}

function asTested(path: string, isDir: boolean): string {
  return isDir ? `${path}/` : path;
}

function depth(dir: string): number {
  return dir === '' ? 0 : dir.split('/').length;
}
