/** A problem found in a config file, located as file:line:col (1-based) so editors can jump to it. */
/** `info` notes what nh read differently from how it was written (an empty value read as unset); shown under -v. */
export type Severity = 'error' | 'warning' | 'info';

export interface SourcePosition {
  readonly file: string;
  readonly line: number;
  readonly col: number;
}

export interface Problem extends SourcePosition {
  readonly severity: Severity;
  /** Stable identifier of the kind of problem, e.g. `unknown-key`, `duplicate-service`. */
  readonly code: string;
  readonly message: string;
  readonly hint?: string;
}

export function hasErrors(problems: readonly Problem[]): boolean {
  return problems.some((p) => p.severity === 'error');
}

export function sortProblems(problems: readonly Problem[]): Problem[] {
  return [...problems].sort(
    (a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.col - b.col || a.message.localeCompare(b.message),
  );
}

/** A value as quoted in a message: a hostile 1 MB value would otherwise fill the terminal. */
export function shown(value: string, max = 60): string {
  return value.length <= max ? value : `${value.slice(0, max)}… (${value.length} characters)`;
}
