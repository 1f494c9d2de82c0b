/**
 * The lines a scenario cell (frames in flight: `--scenario stream:FPS | server:RATE | max`) adds to a
 * results file beside its histograms, written in the same fsynced write: one `#dnn-stream` line (the
 * cell's counts) just before its histogram lines, and one `#dnn-frame` line per frame offered after
 * them. HdrHistogram's readers skip both as comments. Field by field: docs/results-format.md.
 */
export const STREAM_PREFIX = '#dnn-stream ';
export const FRAME_PREFIX = '#dnn-frame ';

/** One scenario cell's counts. */
export interface StreamLine {
  /** the cell's key: its tag without `;metric=...` (src/results/tags.ts cellKey) */
  cell: string;
  /** `stream:15`, `server:20`, `max` */
  scenario: string;
  /** which edge (0 with one edge) */
  edge: number;
  /** frames offered after warm-up (`--reps`), dropped ones included */
  offered: number;
  completed: number;
  /** frames that never completed: not started within their period, or refused by the cloud (QUEUE_FULL) */
  dropped: number;
  /** of the dropped: refused by a full cloud queue */
  refused: number;
  /** first arrival -> last completion */
  elapsed_ms: number;
  /** completed * 1000 / elapsed_ms */
  fps: number;
  /** the cap on frames in flight */
  in_flight: number;
  /** the cloud stress in force, as every RESULT of the cell reported it */
  cloud_stress: { cpu: number; mem: number };
}

/** One frame of a scenario cell: when each stage started and ended. */
export interface FrameLine {
  cell: string;
  /** frame number within the cell, in arrival order */
  i: number;
  /** [arrival, edge_start, edge_end, sent, reply], ms since the cell's first arrival; a dropped frame: [arrival] */
  t: number[];
  /** the cloud's queueing, decoding and compute, ms (absent for a dropped frame) */
  q?: number;
  d?: number;
  c?: number;
  drop: boolean;
}
