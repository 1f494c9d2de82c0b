import type * as hdr from 'hdr-histogram-js';
import { newLatencyHistogram } from '../results/log-lines.js';
import type { Metric } from '../results/tags.js';

/** One measured inference of one partition point, in microseconds. */
export interface Sample {
  edge: number;
  transfer: number;
  cloud: number;
  /** end to end at the edge, measured (not the sum of the others) */
  total: number;
}

/** The four histograms of one (condition, point) cell. */
export class CellRecorder {
  readonly histograms: Record<Metric, hdr.Histogram> = {
    edge: newLatencyHistogram(),
    transfer: newLatencyHistogram(),
    cloud: newLatencyHistogram(),
    total: newLatencyHistogram(),
  };
  readonly startMs = Date.now();
  count = 0;
  /** transfers below zero (clock granularity on tiny tensors) recorded as 0 */
  clamped = 0;

  record(s: Sample): void {
    for (const m of ['edge', 'transfer', 'cloud', 'total'] as const) {
      const v = Math.round(s[m]);
      if (v < 0) this.clamped++;
      this.histograms[m].recordValue(Math.max(0, v));
    }
    this.count++;
  }

  destroy(): void {
    for (const h of Object.values(this.histograms)) h.destroy();
  }
}
