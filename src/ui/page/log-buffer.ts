/**
 * The page's log lines (pure, no DOM): a bounded buffer (the oldest lines go first) and the lines a filter
 * (service, text) keeps, kept up to date as lines arrive rather than recomputed per frame.
 */
export interface LogLine {
  readonly service: string;
  readonly stream: 'stdout' | 'stderr';
  readonly line: string;
  /** Lower-cased, for search. */
  readonly lower: string;
}

export interface LogFilter {
  /** '' = every service. */
  readonly service: string;
  readonly text: string;
}

export const MAX_LOG_LINES = 20_000;

export class LogBuffer {
  private lines: LogLine[] = [];
  /** Id of lines[0]: ids grow forever, so the filter's ids survive trimming. */
  private firstId = 0;
  private filter: LogFilter = { service: '', text: '' };
  /** Ids of the lines the filter keeps, or undefined when it keeps every line. */
  private matches: number[] | undefined;

  constructor(private readonly max = MAX_LOG_LINES) {}

  append(service: string, stream: 'stdout' | 'stderr', line: string): void {
    const entry = { service, stream, line, lower: line.toLowerCase() };
    const id = this.firstId + this.lines.length;
    this.lines.push(entry);
    if (this.matches && this.keeps(entry)) this.matches.push(id);
    // Trimmed in chunks: the front of an array is costly to drop one at a time.
    if (this.lines.length > this.max * 1.1) this.trim(this.lines.length - this.max);
  }

  setFilter(filter: LogFilter): void {
    this.filter = { service: filter.service, text: filter.text.toLowerCase() };
    if (!this.filter.service && !this.filter.text) {
      this.matches = undefined;
      return;
    }
    this.matches = [];
    for (let i = 0; i < this.lines.length; i++) if (this.keeps(this.lines[i]!)) this.matches.push(this.firstId + i);
  }

  /** How many lines the filter keeps. */
  get size(): number {
    return this.matches ? this.matches.length : this.lines.length;
  }

  /** The index-th kept line. */
  at(index: number): LogLine | undefined {
    const id = this.matches ? this.matches[index] : this.firstId + index;
    return id === undefined ? undefined : this.lines[id - this.firstId];
  }

  /** Every line held, whatever the filter. */
  get total(): number {
    return this.lines.length;
  }

  clear(): void {
    this.lines = [];
    this.firstId = 0;
    this.setFilter(this.filter);
  }

  private keeps(entry: LogLine): boolean {
    return (!this.filter.service || entry.service === this.filter.service) && (!this.filter.text || entry.lower.includes(this.filter.text));
  }

  private trim(count: number): void {
    this.lines.splice(0, count);
    this.firstId += count;
    if (!this.matches) return;
    let drop = 0;
    while (drop < this.matches.length && this.matches[drop]! < this.firstId) drop++;
    this.matches.splice(0, drop);
  }
}
