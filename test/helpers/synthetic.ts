import { NO_CONDITION, type Condition } from '../../src/conditions/condition.js';
import type { CellStats, NetworkData } from '../../src/analysis/cells.js';
import { ResultsWriter } from '../../src/results/log-writer.js';
import type { FidelityRecord, RunMetadata } from '../../src/results/metadata.js';
import { cellHistograms, sampleMeta } from './results.js';

/**
 * A 2x2 factorial (network unshaped/10 Mbit/s x edge CPU 0/100 %) over points a, b, c, with totals
 * chosen so the answer is known:
 *   baseline        a=10  b=5    c=8    best b (deployed)
 *   net=10          a=12  b=9    c=6    best c, gain 9/6-1 = 0.5      -> repartition
 *   ecpu=100        a=11  b=5.2  c=20   best b, gain 0
 *   net=10 ecpu=100 a=13  b=10   c=9.8  best c, gain 10/9.8-1 = 0.0204 < 0.05 -> no repartition
 */
export const SYNTHETIC: { condition: Condition; totals: [number, number, number] }[] = [
  { condition: { ...NO_CONDITION }, totals: [10, 5, 8] },
  { condition: { ...NO_CONDITION, net: 10 }, totals: [12, 9, 6] },
  { condition: { ...NO_CONDITION, ecpu: 100 }, totals: [11, 5.2, 20] },
  { condition: { ...NO_CONDITION, net: 10, ecpu: 100 }, totals: [13, 10, 9.8] },
];
export const SYNTHETIC_CUTS = ['a', 'b', 'c'];

/** Splits a total into edge 30 %, transfer 20 %, cloud 50 %. */
export function split(total: number): { edge: number; transfer: number; cloud: number; total: number } {
  return { edge: total * 0.3, transfer: total * 0.2, cloud: total * 0.5, total };
}

export function syntheticNetwork(rows = SYNTHETIC): NetworkData {
  const stat = (v: number) => ({ p50: v, p95: v * 1.1, mean: v, samples: 10 });
  return {
    network: 'synth',
    cuts: SYNTHETIC_CUTS.map((cut, index) => ({ cut, index })),
    sources: ['memory'],
    conditions: rows.map(({ condition, totals }) => {
      const cells = new Map<string, CellStats>();
      totals.forEach((t, i) => {
        const s = split(t);
        cells.set(SYNTHETIC_CUTS[i]!, { edge: stat(s.edge), transfer: stat(s.transfer), cloud: stat(s.cloud), total: stat(t) });
      });
      return { condition, cells };
    }),
  };
}

/**
 * A network measured with encoded crossings, whose truth is a known physical model:
 *   total(arm, rate) = edge(point) + encode(arm) + transfer(bytes, rate) + decode(arm) + cloud(point)
 *   transfer         = 1 ms + bytes * 8 / rate (bytes: the INFER frame, rate in Mbit/s; none = unshaped: 1 ms)
 * Points: `input` (cloud-only: 224x224x3 float32 = 602112 bytes), `mid` (50000 floats), `out`
 * (edge-only: nothing crosses). Fidelity (top-1 agreement with f32): jpeg:90 0.995 (0.5 points lost),
 * f16 1.0, int8 0.97 (3 points lost); int8-ch has no record (lossy: left out); lz4 has none
 * (lossless: 0 lost). With the default budget of 1 point:
 *   unshaped  input 35     jpeg 36.0  mid 36.0  f16 36.8  int8 37.1 int8-ch 36.9 lz4 41.0 out 120  -> best input (f32 too)
 *   10 Mbit/s input 516.8  jpeg 48.0  mid 196   f16 116.8 int8 77.1 int8-ch 45.0 lz4 153  out 120  -> best input@jpeg:90; f32: out
 *   2 Mbit/s  input 2444   jpeg 96.0  mid 837   f16 437   int8 237  int8-ch 76.9 lz4 601  out 120  -> best input@jpeg:90; f32: out
 * so encoding changes the best point (input vs out) and removes the point's move at 10 and 2 Mbit/s.
 * With a budget of 0.1 points jpeg:90 is out too: at 10 Mbit/s mid@f16 (116.8) beats out (120).
 */
export interface CodecArmTruth {
  cut: string;
  codec: string;
  edge: number;
  encode: number;
  decode: number;
  cloud: number;
  /** INFER frame bytes per request (0: nothing crosses) */
  bytes: number;
}

const RAW_HEADER = 96;
export const CODEC_ARMS: CodecArmTruth[] = [
  // raw f32 pixels: the edge preprocesses (4 ms); a camera codec leaves that to the cloud (in its decode)
  { cut: 'input', codec: 'f32', edge: 4, encode: 0, decode: 0, cloud: 30, bytes: 602112 + RAW_HEADER },
  { cut: 'input', codec: 'jpeg:90', edge: 0.001, encode: 2, decode: 3, cloud: 30, bytes: 15000 },
  { cut: 'mid', codec: 'f32', edge: 20, encode: 0, decode: 0, cloud: 15, bytes: 200000 + RAW_HEADER },
  { cut: 'mid', codec: 'f16', edge: 20, encode: 0.5, decode: 0.3, cloud: 15, bytes: 100000 + RAW_HEADER },
  { cut: 'mid', codec: 'int8', edge: 20, encode: 0.8, decode: 0.3, cloud: 15, bytes: 50000 + RAW_HEADER + 8 },
  { cut: 'mid', codec: 'int8-ch', edge: 20, encode: 0.6, decode: 0.3, cloud: 15, bytes: 10000 },
  { cut: 'mid', codec: 'lz4', edge: 20, encode: 3, decode: 2, cloud: 15, bytes: 140000 },
  { cut: 'out', codec: 'f32', edge: 120, encode: 0, decode: 0, cloud: 0, bytes: 0 },
];
export const CODEC_POINTS = [
  { layer: 'input', shape: [224, 224, 3] },
  { layer: 'mid', shape: [50000] },
  { layer: 'out', shape: [1000] },
];
export const CODEC_FIDELITY = [
  { cut: 'input', codec: 'jpeg:90', top1: 0.995 },
  { cut: 'mid', codec: 'f16', top1: 1 },
  { cut: 'mid', codec: 'int8', top1: 0.97 },
];

/** The truth's latencies (ms) of an arm at a rate (Mbit/s; null = unshaped). */
export function armTruth(a: CodecArmTruth, rate: number | null): { edge: number; transfer: number; cloud: number; total: number; encode: number; decode: number } {
  const transfer = a.bytes === 0 ? 0 : 1 + (rate === null ? 0 : (a.bytes * 8) / (rate * 1000));
  return { edge: a.edge, transfer, cloud: a.cloud, encode: a.encode, decode: a.decode, total: a.edge + a.encode + transfer + a.decode + a.cloud };
}

/** A fidelity record as dnn-cut --codecs writes it, for an arm of CODEC_ARMS with the given top-1 agreement. */
export function fidelityRecord(cut: string, codec: string, top1: number): FidelityRecord {
  const arm = CODEC_ARMS.find((a) => a.cut === cut && a.codec === codec)!;
  const f32 = CODEC_ARMS.find((a) => a.cut === cut && a.codec === 'f32')!;
  return { cut, codec, bytes: arm.bytes, ratio: arm.bytes / f32.bytes, encode_ms: arm.encode, decode_ms: arm.decode, max_abs_diff: top1 === 1 ? 0 : 0.1, rel_l2: top1 === 1 ? 0 : 0.01, top1_agreement: top1, top5_agreement: Math.min(1, top1 + 0.02), inputs: 200 };
}

/** Run metadata of the codec network: its 3 points, the codecs, and (unless `fidelity` is false) the fidelity records. */
export function codecMeta(fidelity = true): RunMetadata {
  const meta = sampleMeta('codecnet', CODEC_POINTS.map((p) => p.layer));
  return {
    ...meta,
    input_shape: [224, 224, 3],
    cuts: CODEC_POINTS.map((p, i) => ({ index: i, layer: p.layer, shape: p.shape, bytes: 4 * p.shape.reduce((a, b) => a * b, 1) })),
    codecs: { input: ['f32', 'jpeg:90'], inner: ['f32', 'f16', 'int8', 'int8-ch', 'lz4'] },
    ...(fidelity ? { fidelity: CODEC_FIDELITY.map((f) => fidelityRecord(f.cut, f.codec, f.top1)) } : {}),
  };
}

/**
 * Writes a results file of the codec network with the real writer: every arm of CODEC_ARMS (or those
 * `arms` keeps) at each rate, its histograms spread ±10 % around the truth.
 */
export async function writeCodecRun(path: string, rates: (number | null)[], opts: { fidelity?: boolean; arms?: (a: CodecArmTruth) => boolean; samples?: number } = {}): Promise<void> {
  const w = await ResultsWriter.create(path, codecMeta(opts.fidelity ?? true));
  for (const net of rates) {
    const condition = { ...NO_CONDITION, net };
    for (const arm of CODEC_ARMS.filter(opts.arms ?? (() => true))) {
      const t = armTruth(arm, net);
      const h = cellHistograms({ edge: t.edge, transfer: t.transfer, cloud: t.cloud, total: t.total }, opts.samples ?? 20, { encode: t.encode, decode: t.decode, bytes: arm.bytes });
      await w.appendCell(condition, arm.cut, h, Date.now(), Date.now() + 1, undefined, arm.codec);
    }
  }
  await w.close();
}
