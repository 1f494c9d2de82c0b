import { rng } from '../../random.js';
import type { PipelinedScenario } from './scenario.js';

/**
 * When the frames of a cell arrive, as offsets (ms) from the cell's start: a pure function of the
 * scenario and a seed, so a rerun with the same --seed offers the same arrival times.
 * - stream:FPS: one frame every 1000/FPS ms (a camera), the first at 0;
 * - server:RATE: a Poisson process at RATE/s (exponential gaps), the first at 0;
 * - max: no schedule (closed loop: a frame arrives whenever it can start), so undefined.
 */
export function arrivalOffsets(s: PipelinedScenario, count: number, seed: number): number[] | undefined {
  if (s.kind === 'max') return undefined;
  if (s.kind === 'stream') return Array.from({ length: count }, (_, i) => (i * 1000) / s.fps);
  const gap = exponentialGaps(s.rate, seed);
  const out: number[] = [];
  let t = 0;
  for (let i = 0; i < count; i++) {
    out.push(t);
    t += gap();
  }
  return out;
}

/** Exponential gaps (ms) with mean 1000/rate, by inversion of seeded uniforms. */
export function exponentialGaps(rate: number, seed: number): () => number {
  const u = rng(seed);
  // 1 - u is in (0, 1]: log never sees 0
  return () => (-Math.log(1 - u()) * 1000) / rate;
}

/** A cell's arrival seed: the run's --seed mixed with the cell's key (each cell draws its own arrivals, reproducibly). */
export function arrivalSeed(seed: number, cell: string): number {
  let h = (seed ^ 0x9e3779b9) >>> 0;
  for (const ch of cell) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0;
  return h;
}
