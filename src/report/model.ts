import type { Condition, FactorName, Factors } from '../conditions/factors.js';
import type { Metric } from '../results/tags.js';

/**
 * The data the report works on, whatever its source (results files or the published tool's outputs),
 * and the report itself (its JSON form is documented in the README and kept stable).
 */

export const STATISTICS = ['p50', 'p95', 'mean'] as const;
export type Statistic = (typeof STATISTICS)[number];

/** One metric of one cell, in milliseconds. */
export interface MetricStats {
  p50: number;
  p95: number;
  mean: number;
  samples: number;
}

export type CellStats = Partial<Record<Metric, MetricStats>>;

export interface CutRef {
  /** label: layer name, or the published tool's integer ordinal */
  cut: string;
  /** position in the model (meta.cuts index, or the ordinal) */
  index: number;
}

export interface ConditionData {
  condition: Condition;
  /** cut label -> its stats */
  cells: Map<string, CellStats>;
}

export interface NetworkData {
  network: string;
  /** every point, in model order */
  cuts: CutRef[];
  conditions: ConditionData[];
  /** files or folders the data came from */
  sources: string[];
}

/** Condition factors under their JSON names (src/conditions/factors.ts); net_mbit null = not shaped (the fastest). */
export type { Factors, FactorName };

export interface PointRow {
  cut: string;
  index: number;
  /** each metric at the chosen statistic; null when that metric is missing */
  edge_ms: number | null;
  transfer_ms: number | null;
  cloud_ms: number | null;
  total_ms: number;
  total_p95_ms: number;
  samples: number;
}

export interface PointRef {
  cut: string;
  total_ms: number;
}

export interface ConditionReport {
  key: string;
  factors: Factors;
  best: PointRef;
  /** total of the deployed point here; null when it was not measured in this condition */
  deployed_ms: number | null;
  /** total(deployed) / total(best) - 1; null when the deployed point was not measured */
  gain: number | null;
  repartition: boolean;
  /** the first point (least on the edge) and the last (most on the edge) */
  cloud_only: PointRef | null;
  edge_only: PointRef | null;
  speedup_vs_cloud_only: number | null;
  speedup_vs_edge_only: number | null;
  cuts: PointRow[];
}

export interface SensitivityLevel {
  value: number | null;
  conditions: number;
  deployed_ms: number | null;
  best_ms: number;
}

export interface SensitivityRow {
  factor: FactorName;
  /** levels from the most favourable to the least, with mean latencies over matched conditions */
  levels: SensitivityLevel[];
  /** condition pairs that differ only in this factor (the favourable level vs another) */
  pairs: number;
  /** deployed total at the other level / at the favourable level - 1: mean and largest over pairs */
  deployed_change_mean: number | null;
  deployed_change_max: number | null;
  /** pairs where the best point differs */
  best_moved: number;
  best_moved_frac: number;
}

export interface NetworkSummary {
  conditions: number;
  repartition: number;
  max_gain: number | null;
  max_gain_condition: string | null;
  max_gain_best_cut: string | null;
  sensitivity: SensitivityRow[];
}

export interface NetworkReport {
  network: string;
  sources: string[];
  /** the reference condition: the fastest network, no delay/jitter/loss, no stress */
  baseline: { key: string; exact: boolean };
  deployed: { cut: string; condition: string; reason: 'flag' | 'best-at-baseline' };
  conditions: ConditionReport[];
  summary: NetworkSummary;
}

export interface Report {
  tool: 'dnn-report';
  metric: Statistic;
  min_gain: number;
  networks: NetworkReport[];
  warnings: string[];
}
