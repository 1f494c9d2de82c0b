import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { readResultsFile } from '../../src/results/log-reader.js';
import type { RunMetadata } from '../../src/results/metadata.js';
import { METRICS, type Metric } from '../../src/results/tags.js';
import { newLatencyHistogram, type CellHistograms } from '../../src/results/log-lines.js';

/** Run metadata as dnn-edge writes it, for a network with the given partition points. */
export function sampleMeta(network: string, cuts: string[]): RunMetadata {
  return {
    tool: 'dnn-partition-bench',
    tool_version: '0.1.0',
    protocol_version: 1,
    network,
    fingerprint: 'test',
    seed: 1,
    params: 1000,
    input_shape: [28, 28, 1],
    cuts: cuts.map((layer, i) => ({ index: i + 1, layer, shape: [10], bytes: 40 })),
    edge: { host: 'edge', backend: 'cpu', versions: {}, cpu: 'test', cores: 2, mem_bytes: 1, node: process.version },
    cloud: { host: 'cloud', backend: 'cpu', versions: {} },
    command_line: ['dnn-edge'],
    started: '2026-01-01T00:00:00.000Z',
    reps: 10,
    warmup: 1,
  };
}

/** What a run that sets a codec records besides the 4 latencies: encode/decode ms and INFER bytes per request. */
export interface CodecFigures {
  encode: number;
  decode: number;
  bytes: number;
}

/**
 * Histograms of one cell: `samples` values (µs) per metric, spread ±10 % around the given means (ms).
 * With `codec` figures, also the encode and decode times (spread alike) and the bytes per request
 * (a count, recorded exactly: a codec of fixed output gives the same frame every request).
 */
export function cellHistograms(ms: Record<Metric, number>, samples = 20, codec?: CodecFigures): CellHistograms {
  const out = {} as CellHistograms;
  const times = (mean: number, floor = 1) => {
    const h = newLatencyHistogram();
    for (let i = 0; i < samples; i++) {
      const spread = samples > 1 ? 0.9 + (0.2 * i) / (samples - 1) : 1;
      h.recordValue(Math.max(floor, Math.round(mean * 1000 * spread)));
    }
    return h;
  };
  for (const m of METRICS) out[m] = times(ms[m]);
  if (codec) {
    out.encode = times(codec.encode, 0);
    out.decode = times(codec.decode, 0);
    const bytes = newLatencyHistogram();
    bytes.recordValueWithCount(codec.bytes, samples);
    out.bytes = bytes;
  }
  return out;
}

/** The one results file a run wrote into `dir`: its path and its parsed content. */
export async function resultsOf(dir: string) {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.hdr'));
  return { file: path.join(dir, files[0]!), parsed: readResultsFile(path.join(dir, files[0]!)) };
}
