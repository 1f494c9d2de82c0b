// test-process: shared (pure: no backend, environment, signal handlers or children; see test/run-shared.ts)
import t from 'tap';
import { rng } from '../../src/random.js';
import { logSpread, powerSentence, powerStatement, resolvableGain, samplesNeeded } from '../../src/analysis/power.js';
import { againstBest, compareDistributions, criticalCount, distributionFrom, normalQuantile } from '../../src/analysis/significance.js';

/** n lognormal latencies around `median` ms with relative spread `sd`, quantised like an HDR histogram (3 digits). */
function latencies(random: () => number, n: number, median: number, sd: number): number[] {
  return Array.from({ length: n }, () => {
    const z = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
    const v = median * Math.exp(sd * z);
    return Number(v.toPrecision(3));
  });
}

t.test('critical counts match the published Mann-Whitney tables', async (t) => {
  t.equal(criticalCount(3, 3, 0.05), -1, '3 vs 3 can never be significant at 95 %');
  t.equal(criticalCount(5, 5, 0.05), 2);
  t.equal(criticalCount(10, 10, 0.05), 23);
  t.equal(criticalCount(20, 20, 0.05), 127);
  t.equal(criticalCount(8, 12, 0.05), 22);
  t.equal(criticalCount(10, 10, 0.01), 16);
  const exact = criticalCount(60, 60, 0.05);
  const approx = criticalCount(61, 61, 0.05);
  t.ok(approx > exact && approx - exact < 80, `normal approximation continues the exact table (${exact} -> ${approx})`);
  t.ok(Math.abs(normalQuantile(0.975) - 1.959964) < 1e-5);
});

t.test('a clear gain: significant, its interval holds the true ratio', async (t) => {
  const r = rng(1);
  const slow = distributionFrom(latencies(r, 12, 24, 0.05));
  const fast = distributionFrom(latencies(r, 12, 20, 0.05));
  const g = compareDistributions(slow, fast, { confidence: 0.95, comparisons: 5 });
  t.ok(g.significant && g.low > 0, `significant: ${JSON.stringify(g)}`);
  t.ok(g.low < 0.2 && g.high > 0.2, 'the interval holds the true +20 %');
  const back = compareDistributions(fast, slow, { confidence: 0.95, comparisons: 5 });
  t.ok(back.high < 0 && back.significant, 'the other way round: significantly faster');
});

t.test('complete separation with 3 samples: still not significant when 6 points compete', async (t) => {
  const g = compareDistributions(distributionFrom([30, 31, 32]), distributionFrom([10, 11, 12]), { confidence: 0.95, comparisons: 5 });
  t.equal(g.significant, false);
  t.equal(g.low, -Infinity);
  t.ok(g.estimate > 1.5, 'the estimate is still the typical ratio');
});

t.test('A/A: identical conditions give significant gains no more often than 1 - confidence', async (t) => {
  const r = rng(7);
  let significant = 0;
  let covered = 0;
  const trials = 200;
  for (let i = 0; i < trials; i++) {
    const a = distributionFrom(latencies(r, 10, 15, 0.1));
    const b = distributionFrom(latencies(r, 10, 15, 0.1));
    const g = compareDistributions(a, b, { confidence: 0.95 });
    if (g.significant) significant++;
    if (g.low <= 0 && g.high >= 0) covered++;
  }
  t.ok(significant <= trials * 0.09, `${significant}/${trials} false positives`);
  t.equal(covered, trials - significant);
});

t.test('the tie set: points not significantly slower than the best', async (t) => {
  const r = rng(3);
  const points = new Map([
    ['a', distributionFrom(latencies(r, 15, 10, 0.03))],
    ['b', distributionFrom(latencies(r, 15, 10.05, 0.03))],
    ['c', distributionFrom(latencies(r, 15, 14, 0.03))],
  ]);
  const v = againstBest(points, 'a', 0.95);
  t.same([...v].filter(([, p]) => p.tie).map(([c]) => c), ['a', 'b']);
  t.ok(v.get('c')!.low > 0.2 && v.get('c')!.high < 0.6);
  t.same(v.get('a'), { estimate: 0, low: 0, high: 0, significant: false, tie: true });
});

t.test('power: spread, resolvable gain, samples needed', async (t) => {
  const spread = logSpread([distributionFrom(latencies(rng(5), 400, 20, 0.1))])!;
  t.ok(spread > 0.085 && spread < 0.115, `robust spread of a 10 % lognormal: ${spread}`);
  t.equal(logSpread([distributionFrom([5])]), null, 'one sample says nothing about spread');
  t.equal(resolvableGain(3, 0.1, 0.95, 5), Infinity);
  const g12 = resolvableGain(12, 0.1, 0.95, 5);
  const g48 = resolvableGain(48, 0.1, 0.95, 5);
  t.ok(g12 > g48 && g48 > 0, `more samples resolve less: ${g12} > ${g48}`);
  t.ok(Math.abs(g48 / g12 - 0.5) < 0.1, 'about 1/sqrt(n)');
  const need = samplesNeeded(0.05, 0.1, 0.95, 5)!;
  t.ok(resolvableGain(need, 0.1, 0.95, 5) <= 0.05 && resolvableGain(need - 1, 0.1, 0.95, 5) > 0.05);

  const few = powerStatement(3, 6, 0.1, 0.95, 0.05);
  t.match(few, { resolvable_gain: null, resolves_min_gain: false, samples_for_min_gain: need });
  t.match(powerSentence(few), /^with 3 samples per point no gain can be significant \(95.0 % confidence, best of 6 points\); about \d+ are needed for 5.0 % \(--reps \d+\)$/);
  const many = powerStatement(need, 6, 0.1, 0.95, 0.05);
  t.equal(many.resolves_min_gain, true);
  t.match(powerSentence(many), /no gain under [0-9.]+ % can be significant .*: enough to resolve --min-gain 5.0 %$/);
});
