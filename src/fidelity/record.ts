import { median } from '../analysis/stats.js';
import { agreement, maxAbsDiff, relativeL2 } from './compare.js';

/**
 * The fidelity of one (point, codec) pair over a set of inputs: dnn-cut's JSON `cuts[].codecs[]`
 * (without `cut`) and the `fidelity` entries of a results file's #dnn-meta (with it).
 */
export interface FidelityRecord {
  /** the point's layer name, as dnn-cut prints it */
  cut: string;
  /** tensor codec name at inner points; input codec label (f32, u8, jpeg:90, png, webp:80) at the input point */
  codec: string;
  /** mean bytes per input of the encoded payload plus the codec's parameter bytes (the INFER header not counted) */
  bytes: number;
  /** bytes / the point's float32 payload bytes (f16: 0.5); 1 at the edge-only point, where nothing crosses */
  ratio: number;
  /** median per input of the edge's encode time (ms) */
  encode_ms: number;
  /** median per input of the cloud's decode time (ms); at the input point image decode plus preprocessing */
  decode_ms: number;
  /** max |y - y_ref| over every output value of every input (null in JSON for NaN) */
  max_abs_diff: number;
  /** mean over the inputs of ||y - y_ref|| / ||y_ref|| */
  rel_l2: number;
  /** share of inputs (0..1) whose top-1 class is the reference's */
  top1_agreement: number;
  /** share of inputs (0..1) whose 5 highest classes include the reference's top-1 (TOP5_DEFINITION) */
  top5_agreement: number;
  /** how many inputs the figures are over */
  inputs: number;
}

/** Gathers one (point, codec) pair's measurements input by input, then gives its record. */
export class FidelityTally {
  private bytes = 0;
  private readonly encodeMs: number[] = [];
  private readonly decodeMs: number[] = [];
  private maxAbs = 0;
  private relL2 = 0;
  private top1 = 0;
  private top5 = 0;
  private n = 0;

  constructor(
    readonly cut: string,
    readonly codec: string,
    /** the point's float32 payload bytes: the ratio's denominator (0: nothing crosses) */
    private readonly f32Bytes: number,
  ) {}

  /** One input: what crossed (bytes, times) and the output the cloud computed from it. */
  add(m: { bytes: number; encodeMs: number; decodeMs: number }, y: Float32Array, ref: Float32Array): void {
    this.bytes += m.bytes;
    this.encodeMs.push(m.encodeMs);
    this.decodeMs.push(m.decodeMs);
    const d = maxAbsDiff(y, ref);
    this.maxAbs = Number.isNaN(d) || Number.isNaN(this.maxAbs) ? NaN : Math.max(this.maxAbs, d);
    this.relL2 += relativeL2(y, ref);
    const a = agreement(y, ref);
    if (a.top1) this.top1++;
    if (a.top5) this.top5++;
    this.n++;
  }

  record(): FidelityRecord {
    const n = this.n;
    if (n === 0) throw new RangeError(`no input measured for ${this.cut} ${this.codec}`);
    const bytes = this.bytes / n;
    return {
      cut: this.cut,
      codec: this.codec,
      bytes,
      ratio: this.f32Bytes > 0 ? bytes / this.f32Bytes : 1,
      encode_ms: median(this.encodeMs),
      decode_ms: median(this.decodeMs),
      max_abs_diff: this.maxAbs,
      rel_l2: this.relL2 / n,
      top1_agreement: this.top1 / n,
      top5_agreement: this.top5 / n,
      inputs: n,
    };
  }
}
