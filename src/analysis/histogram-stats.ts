import { JsHistogram, type Histogram } from 'hdr-histogram-js';
import type { CellStats, MetricStats } from './cells.js';
import type { AnyMetric } from '../results/tags.js';
import type { Distribution } from './significance.js';

/**
 * HDR histograms of microseconds (a results file's, or a run's own in memory) -> statistics in
 * milliseconds; the `bytes` metric is a count of bytes and stays in bytes.
 */

/** The parts of hdr-histogram-js's JsHistogram that statsOf walks (not in its public typings). */
interface CountsAccess {
  countsArrayIndex(value: number): number;
  getCountAtIndex(index: number): number;
  valueFromIndex(index: number): number;
  highestEquivalentValue(value: number): number;
  medianEquivalentValue(value: number): number;
  minNonZeroValue: number;
  maxValue: number;
}

/**
 * Statistics of a histogram of microseconds, in milliseconds. The library's getValueAtPercentile
 * and mean each walk the whole counts array from value 0; a report merges tens of thousands of
 * histograms (a VGG16 study: 22356), so this walks once, from the smallest to the largest recorded
 * value, with the library's own rounding (the results are identical; a test compares them), and
 * collects the distribution (every recorded value with its count) on the way.
 */
export function statsOf(h: Histogram, unit = US_PER_MS): MetricStats {
  const a = h as unknown as CountsAccess;
  const total = h.totalCount;
  if (total === 0 || typeof a.countsArrayIndex !== 'function' || typeof a.getCountAtIndex !== 'function') return libraryStats(h, unit);
  const at = (pct: number) => {
    const fp = (pct / 100) * total;
    return Math.max(Math.ceil(fp - 2 ** (Math.floor(Math.log2(fp)) - 52)), 1);
  };
  const want50 = at(50);
  const want95 = at(95);
  let p50 = 0;
  let p95 = 0;
  let sum = 0;
  let seen = 0;
  const values: number[] = [];
  const counts: number[] = [];
  const last = a.countsArrayIndex(a.maxValue);
  for (let i = a.countsArrayIndex(a.minNonZeroValue === Number.MAX_SAFE_INTEGER ? 0 : a.minNonZeroValue); i <= last; i++) {
    const n = a.getCountAtIndex(i);
    if (n === 0) continue;
    const top = a.highestEquivalentValue(a.valueFromIndex(i));
    const median = a.medianEquivalentValue(top);
    sum += median * n;
    values.push(median / unit);
    counts.push(n);
    const before = seen;
    seen += n;
    if (before < want50 && seen >= want50) p50 = top;
    if (before < want95 && seen >= want95) p95 = top;
  }
  if (seen !== total) return libraryStats(h, unit); // zeros recorded (below minNonZeroValue): let the library count them
  return { p50: p50 / unit, p95: p95 / unit, mean: sum / total / unit, samples: total, dist: { values, counts, n: total } };
}

/** Microseconds per millisecond: what the time metrics are divided by. */
const US_PER_MS = 1000;

function libraryStats(h: Histogram, unit: number): MetricStats {
  return {
    p50: h.getValueAtPercentile(50) / unit,
    p95: h.getValueAtPercentile(95) / unit,
    mean: h.mean / unit,
    samples: h.totalCount,
    dist: distributionOf(h, unit),
  };
}

/** Every recorded value of a histogram of microseconds (in ms, or per `unit`) with its count: what significance tests need. */
export function distributionOf(h: Histogram, unit = US_PER_MS): Distribution {
  if (!(h instanceof JsHistogram)) throw new Error('distributionOf: expected a JS histogram (results are decoded without WebAssembly)');
  const values: number[] = [];
  const counts: number[] = [];
  const it = h.recordedValuesIterator;
  it.reset();
  while (it.hasNext()) {
    const v = it.next();
    values.push(h.medianEquivalentValue(v.valueIteratedTo) / unit);
    counts.push(v.countAtValueIteratedTo);
  }
  return { values, counts, n: h.totalCount };
}

/** Every metric of one cell's histograms: times in ms, `bytes` in bytes (never converted). */
export function cellStatsOf(histograms: Partial<Record<AnyMetric, Histogram>>): CellStats {
  const stats: CellStats = {};
  for (const [metric, h] of Object.entries(histograms) as [AnyMetric, Histogram][]) stats[metric] = statsOf(h, metric === 'bytes' ? 1 : US_PER_MS);
  return stats;
}
