import type { Distribution } from '../../analysis/significance.js';
import { weightedMedian } from '../../analysis/stats.js';

/**
 * The run's measured noise, for the race's gap rule (race.ts): how far a sample strays from its own
 * cell's median, pooled over cells. A latency sample is its point's typical time times a noise factor
 * (interference on a shared machine, the network's jitter), and that factor's tails are what decide
 * whether a point measured 3x the best twice can still be the best. Pure: the caller adds cells.
 *
 * The noise is the pooled log-residuals log(sample / its cell's median) of cells with at least
 * MIN_CELL samples (a median of fewer is too rough), taken as they are (no model of their shape):
 * the gap factor is computed over them exactly (gap()). No tail is believed thinner than MIN_TAIL
 * residuals in N (N * p >= MIN_TAIL); where that floor alone is too likely, the envelope says nothing
 * and the gap rule abstains. It never extrapolates a tail it has not seen.
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
    // a sample strays from its own cell's median less than from the point's true one (the median moved
    // towards it); widened by sqrt(n / (n - 1)), exact for a mean and more than a median needs: the
    // gap's tail is steep, and 2 % too narrow a pool made a 1 % risk 1.2 % (test/edge/race.test.ts)
    const widen = Math.sqrt(d.n / (d.n - 1));
    d.values.forEach((v, i) => {
      const r = (Math.log(Math.max(v, Number.MIN_VALUE)) - median) * widen;
      for (let k = 0; k < d.counts[i]!; k++) this.residuals.push(r);
    });
    this.sorted = false;
  }

  /** How many residuals it holds. */
  get size(): number {
    return this.residuals.length;
  }

  /**
   * The gap factor g (>= 1) for a fastest sample of n against a slowest of m: the smallest g such
   * that, if both points' samples are their medians times independent draws of this noise, the
   * fastest of n samples of a point no slower than the other exceeds g times the other's slowest of m
   * with probability at most `beta`. Computed from the pooled residuals themselves,
   *   P(min of n residuals - max of m residuals > log g) = sum over y of P(max of m = y) * S(y + log g)^n,
   * S the residuals' survival, not from a union of two tails (P(all n above U) + P(all m below D),
   * g = U / D), which counts every draw where the m samples' slowest is itself high as a risk. Neither tail
   * is trusted beyond what the pool has seen MIN_TAIL times: S is never taken below MIN_TAIL / N, and
   * the slowest of m lies below every residual with probability (MIN_TAIL / N)^m. Undefined when even
   * an infinite gap would be too likely under that floor (a pool too small to say).
   */
  gap(n: number, m: number, beta: number): number | undefined {
    const r = this.ordered();
    const N = r.length;
    if (N === 0) return undefined;
    const floor = MIN_TAIL / N;
    const atom = Math.pow(floor, m);
    const risk = (c: number): number => {
      // the slowest of m at r[i] (distinct values, CDF F(r[i])^m, F floored like S), the fastest of n above r[i] + c
      let p = atom;
      let prev = atom;
      let j = 0; // first residual > r[i] + c
      for (let i = 0; i < N; ) {
        let k = i;
        while (k < N && r[k] === r[i]) k++;
        const cdf = Math.pow(Math.max(k / N, floor), m);
        const x = r[i]! + c;
        while (j < N && r[j]! <= x) j++;
        p += (cdf - prev) * Math.pow(Math.max((N - j) / N, floor), n);
        prev = cdf;
        i = k;
      }
      return p;
    };
    if (risk(Infinity) > beta) return undefined;
    let lo = 0;
    // at c = the pool's range every S(y + c) is the floor, so risk(hi) = risk(Infinity) <= beta (as long as floor >= 1 / N)
    let hi = r[N - 1]! - r[0]!;
    if (risk(lo) <= beta) return 1;
    for (let it = 0; it < 40; it++) {
      const mid = (lo + hi) / 2;
      if (risk(mid) <= beta) hi = mid;
      else lo = mid;
    }
    return Math.exp(hi);
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
