import type { Distribution } from '../../analysis/significance.js';
import { weightedMedian } from '../../analysis/stats.js';

/**
 * The run's measured noise, for the race's gap rule (race.ts): how far a sample strays from its own
 * cell's median, pooled over cells. A latency sample is its point's typical time times a noise factor
 * (interference on a shared machine, the network's jitter), and that factor's tails are what decide
 * whether a point measured 3x the best twice can still be the best. Pure: the caller adds cells.
 *
 * The tails are read off the pooled log-residuals log(sample / its cell's median) of cells with at
 * least MIN_CELL samples (a median of fewer is too rough), as order statistics: a tail probability p
 * is estimable only when at least MIN_TAIL residuals lie that far out (N * p >= MIN_TAIL); otherwise
 * the envelope says nothing and the gap rule abstains. It never extrapolates a tail it has not seen.
 */
export const MIN_CELL = 3;
export const MIN_TAIL = 2;

export class NoiseEnvelope {
  private residuals: number[] = [];
  private sorted = true;

  /** Adds a cell's samples (ignored below MIN_CELL samples). */
  add(d: Distribution): void {
    if (d.n < MIN_CELL) return;
    const median = logMedian(d);
    d.values.forEach((v, i) => {
      const r = Math.log(Math.max(v, Number.MIN_VALUE)) - median;
      for (let k = 0; k < d.counts[i]!; k++) this.residuals.push(r);
    });
    this.sorted = false;
  }

  /** How many residuals it holds. */
  get size(): number {
    return this.residuals.length;
  }

  /**
   * A factor U >= 1 that a sample exceeds its cell's median by with probability at most p (the
   * MIN_TAIL-th largest residual at least, so that no more than a fraction p lies above), or
   * undefined when too few residuals are pooled to say.
   */
  upper(p: number): number | undefined {
    const r = this.ordered();
    const k = Math.floor(r.length * p);
    if (k < MIN_TAIL) return undefined;
    return Math.exp(Math.max(0, r[r.length - k]!));
  }

  /** A factor D <= 1 that a sample falls below its cell's median by with probability at most p, or undefined (as upper). */
  lower(p: number): number | undefined {
    const r = this.ordered();
    const k = Math.floor(r.length * p);
    if (k < MIN_TAIL) return undefined;
    return Math.exp(Math.min(0, r[k - 1]!));
  }

  /** A copy with more cells (a condition's own cells on top of the run's). */
  with(cells: readonly Distribution[]): NoiseEnvelope {
    const e = new NoiseEnvelope();
    // copied in order, so the copy's sort (TimSort) only merges the condition's few new residuals in
    e.residuals = [...this.ordered()];
    e.sorted = false;
    for (const c of cells) e.add(c);
    return e;
  }

  private ordered(): number[] {
    if (!this.sorted) {
      this.residuals.sort((a, b) => a - b);
      this.sorted = true;
    }
    return this.residuals;
  }
}

/** The median of a distribution's logs (the mean of the two middle ones for an even count). */
function logMedian(d: Distribution): number {
  return weightedMedian(d.values.map((v) => Math.log(Math.max(v, Number.MIN_VALUE))), d.counts);
}
