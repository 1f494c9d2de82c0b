import type { Network } from '../model/network.js';
import type { CutPoint } from '../model/partition.js';
import { benchmarkInput, type SplitRunner } from './split-runner.js';

/** How far a split may drift from the full model and still count as exact (relative to max|output|). */
export const VERIFY_TOLERANCE = 1e-4;

export interface Verification {
  /** max |output| of the full model on the seeded input: the scale of the tolerance */
  outputMaxAbs: number;
  /** VERIFY_TOLERANCE x outputMaxAbs */
  tolerance: number;
  /** point name -> max |split - full| over the output */
  diffs: Map<string, number>;
  /** points whose split output drifts beyond the tolerance */
  failed: string[];
}

/**
 * Runs the full model and, for every point, the edge half then the cloud half on the network's
 * seeded input (the benchmark input), and compares the outputs. This is the proof that a
 * point's halves compute the model before any timing is trusted: the same runner, sessions and
 * input the benchmark uses.
 */
export async function verifySplits(network: Network, runner: SplitRunner, cuts: CutPoint[] = network.cuts): Promise<Verification> {
  const x = benchmarkInput(network.inputShape, network.seed);
  const full = (await runner.full(x)).value.data;
  const outputMaxAbs = maxAbs(full);
  const tolerance = VERIFY_TOLERANCE * outputMaxAbs;
  const diffs = new Map<string, number>();
  const failed: string[] = [];
  for (const cut of cuts) {
    const mid = (await runner.edge(cut, x)).value;
    const out = (await runner.cloud(cut, mid)).value.data;
    const d = out.length === full.length ? maxAbsDiff(out, full) : Infinity;
    diffs.set(cut.layer, d);
    if (!(d <= tolerance)) failed.push(cut.layer);
  }
  return { outputMaxAbs, tolerance, diffs, failed };
}

function maxAbs(a: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (Number.isNaN(d)) return NaN; // the worst there is
    if (d > m) m = d;
  }
  return m;
}
