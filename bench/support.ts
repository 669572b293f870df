/** Small helpers shared by the benchmarks: percentiles and a uniform way to print figures. */
export function percentile(samples: readonly number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] ?? NaN;
}

export function summary(samples: readonly number[]): { p50: number; p95: number; min: number; max: number; n: number } {
  return { p50: percentile(samples, 50), p95: percentile(samples, 95), min: Math.min(...samples), max: Math.max(...samples), n: samples.length };
}

export function ms(value: number): string {
  return `${value.toFixed(1)} ms`;
}
