/** Small helpers shared by the benchmarks: percentiles and a uniform way to print figures. */

/**
 * The p-th percentile by linear interpolation between the closest ranks (numpy's and R's default), so p50
 * is the usual median: the middle sample of an odd count, the mean of the two middle samples of an even one.
 * No samples is an error, never a figure: a benchmark that lost its samples must not print 0 ms.
 */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) throw new RangeError('no samples to take a percentile of');
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be within 0–100, not ${p}`);
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = (p / 100) * (sorted.length - 1);
  const below = Math.floor(rank);
  const above = Math.min(below + 1, sorted.length - 1);
  return sorted[below]! + (sorted[above]! - sorted[below]!) * (rank - below);
}

export function median(samples: readonly number[]): number {
  return percentile(samples, 50);
}

export function summary(samples: readonly number[]): { p50: number; p95: number; min: number; max: number; n: number } {
  return { p50: median(samples), p95: percentile(samples, 95), min: Math.min(...samples), max: Math.max(...samples), n: samples.length };
}

export function ms(value: number): string {
  return `${value.toFixed(1)} ms`;
}
