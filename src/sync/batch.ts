/**
 * When to send a live batch, pure. A save is sent after a short quiet spell (editors write a file in a
 * few quick steps), yet a burst (`git checkout` of 1,000 files) is cut into batches of at most
 * `maxDelayMs` of events, so the first files of a burst do not wait for its end.
 */
export interface BatchTiming {
  /** Send once no event came for this long. */
  readonly quietMs: number;
  /** Send at the latest this long after the first event of the batch. */
  readonly maxDelayMs: number;
}

export const DEFAULT_BATCH_TIMING: BatchTiming = { quietMs: 8, maxDelayMs: 100 };

/** Paths changed since the last batch, with the times of their first and last events. */
export class PendingChanges {
  private paths = new Set<string>();
  private firstAt: number | undefined;
  private lastAt: number | undefined;

  /** Marks a path changed (added, changed, removed: what it is now is read when the batch is sent). */
  add(path: string, now: number): void {
    this.paths.add(path);
    this.firstAt ??= now;
    this.lastAt = now;
  }

  /** Puts back the paths of a batch that failed, keeping its first time. */
  restore(paths: Iterable<string>, firstAt: number, now: number): void {
    for (const path of paths) this.paths.add(path);
    this.firstAt = Math.min(this.firstAt ?? firstAt, firstAt);
    this.lastAt ??= now;
  }

  get size(): number {
    return this.paths.size;
  }

  /** When the pending batch is due, or undefined when nothing is pending. */
  dueAt(timing: BatchTiming): number | undefined {
    if (this.firstAt === undefined || this.lastAt === undefined) return undefined;
    return Math.min(this.lastAt + timing.quietMs, this.firstAt + timing.maxDelayMs);
  }

  /** Takes every pending path, leaving nothing pending. */
  take(): { paths: string[]; firstAt: number } | undefined {
    if (this.firstAt === undefined) return undefined;
    const taken = { paths: [...this.paths], firstAt: this.firstAt };
    this.clear();
    return taken;
  }

  clear(): void {
    this.paths = new Set();
    this.firstAt = undefined;
    this.lastAt = undefined;
  }
}
