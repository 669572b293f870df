/**
 * The page's events not folded yet (pure, no DOM): batches as they arrived, drained in order a slice at a
 * time. Of the bounded kind (log lines) only the newest `keep` can still be shown, so older ones are skipped
 * without folding them when the queue runs that far behind; every other event is always folded.
 */
export class EventQueue<T> {
  private batches: T[][] = [];
  /** Position in batches[0]. */
  private next = 0;
  private queued = 0;
  private bounded = 0;

  constructor(
    private readonly isBounded: (item: T) => boolean,
    private readonly keep: number,
  ) {}

  get size(): number {
    return this.queued;
  }

  push(batch: T[]): void {
    if (batch.length === 0) return;
    this.batches.push(batch);
    this.queued += batch.length;
    for (const item of batch) if (this.isBounded(item)) this.bounded++;
  }

  clear(): void {
    this.batches = [];
    this.next = 0;
    this.queued = 0;
    this.bounded = 0;
  }

  /**
   * Hands items to `fold` in order until the queue is empty or `enough` says so (asked every 64 items);
   * bounded items too far behind go to `skip` instead.
   */
  drain(fold: (item: T) => void, skip: (item: T) => void, enough: () => boolean): void {
    let count = 0;
    while (this.batches.length > 0) {
      const batch = this.batches[0]!;
      const item = batch[this.next++]!;
      if (this.next === batch.length) {
        this.batches.shift();
        this.next = 0;
      }
      this.queued--;
      if (this.isBounded(item)) {
        // Skipped when more of its kind wait behind it than can be kept: it would be dropped on arrival.
        const tooFarBehind = this.bounded > this.keep;
        this.bounded--;
        if (tooFarBehind) {
          skip(item);
          continue;
        }
      }
      fold(item);
      if (++count % 64 === 0 && enough()) return;
    }
  }
}
