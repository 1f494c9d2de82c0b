import type { PlanRecord, ShardRecord } from './plan.js';

/**
 * Run metadata: the first line of every results file is `#dnn-meta ` followed by this object as
 * one line of JSON. HdrHistogram's own log readers skip lines that start with '#'.
 */
export const META_PREFIX = '#dnn-meta ';

export interface CutInfo {
  /** position of the producing layer in the model's layer list */
  index: number;
  /** name of that layer */
  layer: string;
  /** shape of the crossing tensor, batch excluded */
  shape: number[];
  /** float32 bytes of the crossing tensor for batch 1 */
  bytes: number;
}

export interface RunMetadata {
  tool: 'dnn-partition-bench';
  tool_version: string;
  protocol_version: number;
  network: string;
  fingerprint: string;
  seed: number;
  params: number;
  input_shape: number[];
  /** every partition point of the model, in model order (not only the measured ones) */
  cuts: CutInfo[];
  edge: { host: string; backend: string; versions: Record<string, string>; cpu: string; cores: number; mem_bytes: number; node: string };
  cloud: { host: string; backend: string; versions: Record<string, string>; cpu?: string; cores?: number; mem_bytes?: number; node?: string };
  command_line: string[];
  started: string; // ISO 8601 UTC
  reps: number;
  warmup: number;
  /** the whole sweep this file is part of (files written before sharding existed lack it) */
  plan?: PlanRecord;
  /** present when the run measured one shard of the plan (--shard K/N) */
  shard?: ShardRecord;
  /** how conditions were applied (shaper, stressor, interface...); free-form, documented in README */
  conditions?: Record<string, unknown>;
}
