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
  /** threads: inference threads when the backend says (wasm pool; cpu = 1); limits: resource caps of this end when any */
  edge: { host: string; backend: string; versions: Record<string, string>; cpu: string; cores: number; mem_bytes: number; node: string; threads?: number | null; limits?: unknown };
  cloud: { host: string; backend: string; versions: Record<string, string>; cpu?: string; cores?: number; mem_bytes?: number; node?: string; threads?: number | null; limits?: unknown };
  command_line: string[];
  started: string; // ISO 8601 UTC
  reps: number;
  warmup: number;
  /** the order of the run (absent in files written before it was recorded) */
  schedule?: ScheduleMeta;
  /** how conditions were applied (shaper, stressor, interface...); free-form, documented in README */
  conditions?: Record<string, unknown>;
}

/** How a run was ordered: replaying it needs the seed. */
export interface ScheduleMeta {
  /** seed of the shuffles (points per cycle, conditions per block) */
  seed: number;
  order: 'randomized' | 'sequential';
  /** the reference cell is measured again every this many conditions (0 = never) */
  reference_every: number;
  /** points cycled rep by rep within a condition */
  interleaved: boolean;
}
