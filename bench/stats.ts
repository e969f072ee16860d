/** Small statistics for benchmark figures. */

/** The median; the mean of the two middle values for an even count. NaN for no values. */
export function median(values: readonly number[]): number {
  return quantile(values, 0.5);
}

/** The 95th percentile (linear interpolation between closest ranks). */
export function p95(values: readonly number[]): number {
  return quantile(values, 0.95);
}

export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}
