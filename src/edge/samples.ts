import { newLatencyHistogram } from '../results/log-lines.js';
import type { CellHistograms } from '../results/log-lines.js';
import { CODEC_METRICS, METRICS, STREAM_METRICS } from '../results/tags.js';

/** One measured inference of one arm: times in microseconds, bytes in bytes. */
export interface Sample {
  edge: number;
  transfer: number;
  cloud: number;
  /** end to end at the edge, measured (not the sum of the others) */
  total: number;
  /** the edge encoding the crossing (0: sent raw) */
  encode: number;
  /** the cloud decoding it, as the cloud reports (0: raw) */
  decode: number;
  /** the INFER frame on the wire (0: nothing sent) */
  bytes: number;
  /** frames in flight (a scenario other than single): arrival -> edge compute started */
  queue_edge?: number;
  /** frames in flight: the cloud's queueing, from its RESULT (0 when it does not say) */
  queue_cloud?: number;
}

/**
 * The histograms of one (condition, arm) cell: the 4 latencies, with `wire` (a run with codecs)
 * encode, decode and bytes too, and with `stream` (frames in flight) the two queueing times.
 */
export class CellRecorder {
  readonly histograms: CellHistograms;
  readonly startMs = Date.now();
  count = 0;
  /** transfers below zero (clock granularity on tiny tensors) recorded as 0 */
  clamped = 0;

  constructor(
    readonly wire = false,
    readonly stream = false,
  ) {
    this.histograms = {
      edge: newLatencyHistogram(),
      transfer: newLatencyHistogram(),
      cloud: newLatencyHistogram(),
      total: newLatencyHistogram(),
      ...(wire ? { encode: newLatencyHistogram(), decode: newLatencyHistogram(), bytes: newLatencyHistogram() } : {}),
      ...(stream ? { queue_edge: newLatencyHistogram(), queue_cloud: newLatencyHistogram() } : {}),
    };
  }

  record(s: Sample): void {
    for (const m of METRICS) {
      const v = Math.round(s[m]);
      if (v < 0) this.clamped++;
      this.histograms[m].recordValue(Math.max(0, v));
    }
    if (this.wire) for (const m of CODEC_METRICS) this.histograms[m]!.recordValue(Math.max(0, Math.round(s[m])));
    if (this.stream) for (const m of STREAM_METRICS) this.histograms[m]!.recordValue(Math.max(0, Math.round(s[m] ?? 0)));
    this.count++;
  }

  destroy(): void {
    for (const h of Object.values(this.histograms)) h.destroy();
  }
}
