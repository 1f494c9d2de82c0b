import { type Static, Type } from '@sinclair/typebox';
import { type Checker, checker } from '../formats/check.js';

/**
 * The lines a scenario cell (frames in flight: `--scenario stream:FPS | server:RATE | max`) adds to a
 * results file beside its histograms, written in the same fsynced write: one `#dnn-stream` line (the
 * cell's counts) just before its histogram lines, and one `#dnn-frame` line per frame offered after
 * them. HdrHistogram's readers skip both as comments. The schemas are their one definition (types,
 * checks on read, docs/results-format.md).
 */
export const STREAM_PREFIX = '#dnn-stream ';
export const FRAME_PREFIX = '#dnn-frame ';

const count = (description: string) => Type.Integer({ minimum: 0, description });

/** One scenario cell's counts. */
export const StreamLineSchema = Type.Object({
  cell: Type.String({ description: 'the cell: its histograms\' tag without `;metric=...` (condition, cut, codec, scenario, edge, ref)' }),
  scenario: Type.String({ description: 'the load: stream:FPS, server:RATE or max' }),
  edge: count('which edge measured the cell (0 with one edge)'),
  offered: count('frames offered after warm-up (--reps), dropped ones included'),
  completed: count('frames answered: the histograms hold these'),
  dropped: count('frames that never completed: not started before the next frame arrived (stream), over the edge queue\'s cap (server), or refused by the cloud'),
  refused: count('of the dropped: refused by the cloud\'s full queue (QUEUE_FULL)'),
  elapsed_ms: Type.Number({ minimum: 0, description: 'first recorded arrival -> last completion, ms' }),
  fps: Type.Number({ minimum: 0, description: 'completed * 1000 / elapsed_ms: frames per second achieved' }),
  in_flight: Type.Integer({ minimum: 1, description: 'the cap on frames in flight (--in-flight)' }),
  cloud_stress: Type.Object(
    {
      cpu: Type.Number({ minimum: 0, description: 'CPU stress at the cloud, %' }),
      mem: Type.Number({ minimum: 0, description: 'memory stress at the cloud, %' }),
    },
    { description: 'the cloud stress in force, as the RESULTs reported it (the condition\'s own when the cloud does not report it)' },
  ),
});
export type StreamLine = Static<typeof StreamLineSchema>;

/** One frame of a scenario cell: when each stage started and ended. */
export const FrameLineSchema = Type.Object({
  cell: Type.String({ description: 'the cell, as in its #dnn-stream line' }),
  i: count('frame number within the cell, in arrival order (warm-up frames are not written)'),
  t: Type.Array(Type.Number(), {
    minItems: 1,
    maxItems: 5,
    description: '[arrival, edge_start, edge_end, sent, reply], ms since the cell\'s first arrival, 3 decimals; a dropped frame: [arrival]; edge-only point: sent = reply = edge_end',
  }),
  q: Type.Optional(Type.Number({ minimum: 0, description: 'the cloud\'s queueing, ms (RESULT queue µs; 0 from a cloud that does not say; absent for a dropped frame)' })),
  d: Type.Optional(Type.Number({ minimum: 0, description: 'the cloud\'s decoding, ms (absent for a dropped frame)' })),
  c: Type.Optional(Type.Number({ minimum: 0, description: 'the cloud\'s compute, ms (absent for a dropped frame)' })),
  drop: Type.Boolean({ description: 'the frame was dropped (never completed)' }),
});
export type FrameLine = Static<typeof FrameLineSchema>;

const fix = 'the line is skipped (docs/results-format.md lists every field)';
export const streamLineChecker: Checker<typeof StreamLineSchema> = checker({ what: '#dnn-stream', schema: StreamLineSchema, fix });
export const frameLineChecker: Checker<typeof FrameLineSchema> = checker({ what: '#dnn-frame', schema: FrameLineSchema, fix });
