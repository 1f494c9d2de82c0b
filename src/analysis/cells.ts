import type { Condition } from '../conditions/factors.js';
import type { PolicyRun } from '../results/log-reader.js';
import type { AnyMetric } from '../results/tags.js';
import type { FidelityRecord } from '../results/metadata.js';
import type { Distribution } from './significance.js';
import type { Testbed } from './testbed.js';

/**
 * The measured cells every analysis works on, whatever their source (results files, the published
 * tool's outputs, or a profile sweep held in memory). What the analysis produces is in findings.ts.
 */

export const STATISTICS = ['p50', 'p95', 'mean'] as const;
export type Statistic = (typeof STATISTICS)[number];

/** One metric of one cell, in milliseconds (`bytes`: in bytes). */
export interface MetricStats {
  p50: number;
  p95: number;
  mean: number;
  samples: number;
  /** the whole distribution (results files); absent when only summary figures exist (--legacy) */
  dist?: Distribution;
}

export type CellStats = Partial<Record<AnyMetric, MetricStats>>;

/**
 * A measured arm: a partition point, or a (point, codec) pair for an encoded crossing (src/analysis/arms.ts).
 * Arms of one point share its index, so they order by point, then codec.
 */
export interface CutRef {
  /** label: layer name, or the published tool's integer ordinal; `POINT@CODEC` for an encoded arm */
  cut: string;
  /** position in the model (meta.cuts index, or the ordinal) */
  index: number;
  /** float32 bytes of the crossing tensor (from the results' metadata; unknown for the published tool's data) */
  bytes?: number;
  /** encoded arms only: the point's own label and the codec */
  point?: string;
  codec?: string;
}

export interface ConditionData {
  condition: Condition;
  /** arm label (armLabel: the cut, or CUT@CODEC) -> its stats */
  cells: Map<string, CellStats>;
  /** when its cells were measured (ms since the epoch); absent when not recorded (--legacy) */
  startMs?: number;
  endMs?: number;
}

/** A re-measurement of the reference cell (drift control): the baseline condition's reference point alone. */
export interface ReferenceData {
  ref: number;
  condition: Condition;
  cut: string;
  startMs: number;
  endMs: number;
  total: MetricStats;
  /** the file it came from (refs are numbered per run) */
  source: string;
}

export interface NetworkData {
  network: string;
  /** every point, in model order */
  cuts: CutRef[];
  conditions: ConditionData[];
  /** files or folders the data came from */
  sources: string[];
  /** cut label -> shape of its crossing tensor, batch excluded (the results' metadata): what its INFER frame carries */
  shapes?: ReadonlyMap<string, readonly number[]>;
  /** bytes of the model's output tensor (what the cloud sends back), when the metadata says */
  outputBytes?: number;
  /** adaptive runs (dnn-edge --trace) of this network */
  policyRuns?: PolicyRun[];
  /** where it was measured (run metadata); null when unknown (--legacy, files without metadata) */
  testbed?: Testbed | null;
  testbedId?: string | null;
  /** reference re-measurements, in time order */
  references?: ReferenceData[];
  /** measured fidelity per (point, codec) pair, from the files' metadata (absent: none recorded) */
  fidelity?: FidelityRecord[];
}
