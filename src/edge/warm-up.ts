import { benchmarkInput, type SplitRunner } from '../engine/split-runner.js';
import type { Network } from '../model/network.js';
import { median } from '../analysis/stats.js';
import type { CloudLink } from './cloud-link.js';
import { measureOnce } from './measure.js';
import { F32_WIRE } from './arms.js';

/**
 * Warm-up before the first measurement of a run: pairs of the full model on each end (edge-only,
 * then cloud-only, through the link, as the sweep measures them) until the edge's time settles:
 * the median of the last WINDOW runs within SETTLED of the WINDOW before, for at most MAX_MS.
 * A fixed handful was not enough. wasm compiles its code again, faster, after tens of runs (a
 * calibration then measured a slower edge than the sweep did, 4.8x against 3.8x), and a one-CPU
 * edge device shares its CPU with V8's compiler threads at first (a baseline cell measured 31 ms
 * for an edge that took 19 ms a second later).
 */
const WINDOW = 5;
const SETTLED = 0.05;
const MAX_MS = 10_000;

export interface FullModelPair {
  edgeMs: number;
  cloudMs: number;
}

/** The full model on each end, as the sweep measures it: edge compute at the edge-only point, cloud compute at the cloud-only point. */
export function fullModelPair(runner: SplitRunner, link: CloudLink, network: Network): () => Promise<FullModelPair> {
  const first = network.cuts[0]!;
  const last = network.cuts[network.cuts.length - 1]!;
  const input = benchmarkInput(network.inputShape, network.seed);
  return async () => {
    const e = await measureOnce(runner, link, { cut: last, codec: F32_WIRE }, { tensor: input });
    const c = await measureOnce(runner, link, { cut: first, codec: F32_WIRE }, { tensor: input });
    return { edgeMs: e.edge / 1000, cloudMs: c.cloud / 1000 };
  };
}

/** Runs pairs until the edge's time settles (or MAX_MS); returns how many and how long. */
export async function warmUntilSettled(pair: () => Promise<FullModelPair>): Promise<{ pairs: number; ms: number; settled: boolean }> {
  const edgeXs: number[] = [];
  const t0 = Date.now();
  while (!settled(edgeXs)) {
    edgeXs.push((await pair()).edgeMs);
    if (Date.now() - t0 > MAX_MS) return { pairs: edgeXs.length, ms: Date.now() - t0, settled: false };
  }
  return { pairs: edgeXs.length, ms: Date.now() - t0, settled: true };
}

/** The last WINDOW times' median is within SETTLED of the WINDOW before. */
function settled(xs: number[]): boolean {
  if (xs.length < 2 * WINDOW) return false;
  const last = median(xs.slice(-WINDOW));
  const before = median(xs.slice(-2 * WINDOW, -WINDOW));
  return Math.abs(last / before - 1) <= SETTLED;
}

/** One line on how the warm-up went (the run's log). */
export function logWarmUp(log: (line: string) => void, w: { pairs: number; ms: number; settled: boolean }): void {
  log(`warm-up: ${w.pairs} runs of the full model on each end in ${(w.ms / 1000).toFixed(1)} s${w.settled ? ' (the edge\'s time settled)' : ', stopped at the limit before the edge\'s time settled'}`);
}
