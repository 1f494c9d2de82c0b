import type { FrameLine } from '../../results/stream-lines.js';
import type { Sample } from '../samples.js';

/** The cloud stress a RESULT says was in force (protocol v3); absent from older clouds. */
export interface ReplyStress {
  cpu: number;
  mem: number;
  epoch?: number;
}

/**
 * One frame of a scenario cell as the pipeline saw it. Times are performance.now() ms; a stage the
 * frame never reached is undefined (a dropped frame has only its arrival).
 */
export interface FrameRecord {
  /** position in the cell's stream, warm-up frames included */
  i: number;
  arrival: number;
  edgeStart?: number;
  /** edge compute ended (encoding follows) */
  edgeEnd?: number;
  /** handed to the link (after encoding); undefined at the edge-only point */
  sent?: number;
  /** the RESULT arrived (at the edge-only point: edge compute ended) */
  reply?: number;
  /** preprocessing + edge half + readback, and encoding, ms */
  edgeMs: number;
  encodeMs: number;
  bytes: number;
  /** the RESULT's cloud queueing, decoding and compute, ms */
  queueMs: number;
  decodeMs: number;
  cloudMs: number;
  stress?: ReplyStress;
  /** never completed: not started within its period (stream), over the edge queue's cap (server), or refused */
  dropped: boolean;
  /** of the dropped: the cloud answered QUEUE_FULL */
  refused: boolean;
}

export function newFrame(i: number, arrival: number): FrameRecord {
  return { i, arrival, edgeMs: 0, encodeMs: 0, bytes: 0, queueMs: 0, decodeMs: 0, cloudMs: 0, dropped: false, refused: false };
}

export function completed(f: FrameRecord): boolean {
  return !f.dropped && f.reply !== undefined;
}

/**
 * A completed frame as a cell's sample, µs: queue_edge = edge start - arrival; edge and encode as
 * the edge stage timed them; transfer = reply - sent - the cloud's queueing, decoding and compute;
 * total = reply - arrival (so the edge's queueing is in it).
 */
export function frameSample(f: FrameRecord): Sample {
  if (!completed(f) || f.edgeStart === undefined) throw new Error(`bug: frame ${f.i} did not complete`);
  const transfer = f.sent === undefined ? 0 : f.reply! - f.sent - f.queueMs - f.decodeMs - f.cloudMs;
  return {
    edge: f.edgeMs * 1000,
    transfer: transfer * 1000,
    cloud: f.cloudMs * 1000,
    total: (f.reply! - f.arrival) * 1000,
    encode: f.encodeMs * 1000,
    decode: f.decodeMs * 1000,
    bytes: f.bytes,
    queue_edge: (f.edgeStart - f.arrival) * 1000,
    queue_cloud: f.queueMs * 1000,
  };
}

const ms3 = (x: number) => Math.round(x * 1000) / 1000;

/**
 * A frame's `#dnn-frame` line (without its cell): times in ms since `origin` (the cell's first
 * recorded arrival), 3 decimals; a dropped frame has only its arrival. At the edge-only point
 * nothing is sent: sent and reply are the edge's end.
 */
export function frameLine(f: FrameRecord, index: number, origin: number): Omit<FrameLine, 'cell'> {
  const t = (x: number) => ms3(x - origin);
  if (!completed(f)) return { i: index, t: [t(f.arrival)], drop: true };
  const sent = f.sent ?? f.edgeEnd!;
  return { i: index, t: [t(f.arrival), t(f.edgeStart!), t(f.edgeEnd!), t(sent), t(f.reply!)], q: ms3(f.queueMs), d: ms3(f.decodeMs), c: ms3(f.cloudMs), drop: false };
}
