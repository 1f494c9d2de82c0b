import { conditionKey } from '../conditions/condition.js';
import type { CutRef, NetworkData, Statistic, TierRef } from './cells.js';
import type { ConditionReport, NetworkReport, PointRef, PointRow, Significance, TierAnswer, TierPick } from './findings.js';
import type { Distribution } from './significance.js';
import { additiveCheck } from './additive.js';
import { tiersUsed } from './tier-kinds.js';
import { quantileOf } from './stream-stats.js';

/**
 * A three-tier run's report: the analysis of its configurations (x, y) as arms labelled `x|y` (the
 * same best, tie set, significance, moves as single cuts: build-report's analyseNetwork), then
 * written as the JSON asks: `cut` = x, `cut2` = y, the device's two metrics beside the
 * others, per condition the best three-tier against the best two-tier configuration, and the
 * additive check. Pure.
 */

/** The report of a three-tier network's analysis, in the three-tier form. `additive`: add the check (measured data only). */
export function withTiers(report: NetworkReport, data: NetworkData, stat: Statistic, confidence: number, additive = true): NetworkReport {
  const points = data.tiers!.points;
  const refs = new Map(data.cuts.filter((c): c is CutRef & { tier: TierRef } => c.tier !== undefined).map((c) => [c.cut, c.tier]));
  const uses = (label: string) => tiersUsed(refs.get(label)!, points);
  const ref = <T extends PointRef>(p: T): T => {
    const t = refs.get(p.cut);
    return t ? { ...p, cut: t.x, cut2: t.y } : p;
  };
  const byKey = new Map(data.conditions.map((d) => [conditionKey(d.condition), d]));
  const conditions: ConditionReport[] = report.conditions.map((c) => {
    const cond = byKey.get(c.key);
    const rows = c.cuts.map((p): PointRow => {
      const t = refs.get(p.cut)!;
      const cell = cond?.cells.get(p.cut);
      const { cut: _cut, index, ...rest } = p;
      return { cut: t.x, cut2: t.y, index, uses: uses(p.cut), device_ms: cell?.device?.[stat] ?? null, device_transfer_ms: cell?.device_transfer?.[stat] ?? null, ...rest };
    });
    const dist = cond?.cells.get(c.best.cut)?.total?.dist;
    return {
      ...c,
      best: ref(c.best),
      cloud_only: c.cloud_only && ref(c.cloud_only),
      edge_only: c.edge_only && ref(c.edge_only),
      cuts: rows,
      tiers: tierAnswer(c, refs, uses, dist, confidence),
    };
  });
  const measured = new Set(report.conditions.flatMap((c) => c.cuts.map((p) => p.cut)));
  const dep = refs.get(report.deployed.cut);
  return {
    ...report,
    deployed: dep ? { cut: dep.x, cut2: dep.y, condition: report.deployed.condition, reason: report.deployed.reason } : report.deployed,
    conditions,
    tiers: { count: 3, points: points.map((p) => p.cut), configs: measured.size, three_tier_configs: [...measured].filter((l) => refs.get(l)?.kind === 'three').length },
    ...(additive ? { additive_check: additiveCheck(data) } : {}),
  };
}

/**
 * One condition's three-tier answer (rows still keyed by their `x|y` labels, vs_best filled): the best
 * configuration with the interval of its median, the best three-tier and two-tier configurations, and
 * which wins, with the interval and significance of the loser against the condition's best (the tie
 * set's test: corrected for the N-1 comparisons with the best).
 */
export function tierAnswer(c: ConditionReport, refs: Map<string, TierRef>, uses: (label: string) => string, bestDist: Distribution | undefined, confidence: number): TierAnswer {
  const pick = (p: PointRow | undefined): TierPick | null => (p ? { cut: refs.get(p.cut)!.x, cut2: refs.get(p.cut)!.y, uses: uses(p.cut), total_ms: p.total_ms } : null);
  const lowest = (rows: PointRow[]) => rows.reduce<PointRow | undefined>((b, r) => (!b || r.total_ms < b.total_ms ? r : b), undefined);
  const three = lowest(c.cuts.filter((p) => refs.get(p.cut)?.kind === 'three'));
  const two = lowest(c.cuts.filter((p) => refs.get(p.cut)?.kind !== 'three'));
  const best = c.cuts.find((p) => p.cut === c.best.cut)!;
  const interval = bestDist && c.significance !== 'unknown' ? medianInterval(bestDist, confidence) : null;
  const answer: TierAnswer = {
    best: { ...pick(best)!, low_ms: interval?.low ?? null, high_ms: interval?.high ?? null, samples: best.samples },
    best_three_tier: pick(three),
    best_two_tier: pick(two),
    three_tier_wins: null,
    gain: null,
    gain_low: null,
    gain_high: null,
    significance: 'unknown',
  };
  if (!three || !two) return answer;
  const threeWins = three.total_ms < two.total_ms;
  // the loser against the condition's best (the winner is the best: it is the lowest of all)
  const loser = threeWins ? two : three;
  const v = loser.vs_best;
  const significance: Significance = v ? (v.tie ? 'not significant' : 'significant') : 'unknown';
  if (threeWins) return { ...answer, three_tier_wins: true, gain: two.total_ms / three.total_ms - 1, gain_low: v?.low ?? null, gain_high: v?.high ?? null, significance };
  // two tiers win: the gain of two over three is negative; its interval is the loser's inverted
  const inv = (g: number | null | undefined) => (g === null || g === undefined ? null : 1 / (1 + g) - 1);
  return { ...answer, three_tier_wins: false, gain: two.total_ms / three.total_ms - 1, gain_low: inv(v?.high), gain_high: inv(v?.low), significance };
}

/**
 * The distribution-free interval of a median at `confidence` (order statistics: the k-th smallest and
 * largest samples, k from the Binomial(n, 1/2) tails); null when the samples are too few to bound it.
 */
export function medianInterval(d: Distribution, confidence: number): { low: number; high: number } | null {
  const n = d.n;
  const tail = (1 - confidence) / 2;
  // k = the largest rank with P(B <= k - 1) <= tail, B ~ Binomial(n, 1/2); log space for large n
  let logP = -n * Math.LN2;
  let cum = 0;
  let k = 0;
  for (let i = 0; i <= n; i++) {
    cum += Math.exp(logP);
    if (cum > tail) break;
    k = i + 1;
    logP += Math.log((n - i) / (i + 1));
  }
  if (k < 1) return null;
  // the k-th smallest and the k-th largest sample
  return { low: quantileOf(d, k / n), high: quantileOf(d, (n - k + 1) / n) };
}

