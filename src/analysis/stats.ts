/** Median of a list of numbers: the one in the project (benches, calibration and warm-up, the cost model, policy runs' switch penalty); timing on a shared machine is noisy. */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}
