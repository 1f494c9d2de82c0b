import { conditionLabel, interval, pct } from '../../analysis/condition-labels.js';
import type { ConditionReport, FactorName, NetworkReport, PointRow, TierAnswer } from '../../analysis/findings.js';
import { configName, tierLabel } from '../../analysis/tier-kinds.js';
import { ms, tieSetLabel } from './labels.js';

/** Labels of a three-tier run's report (text and HTML share them). */


/**
 * The report with every best and the deployed point named `x|y`, as its tie sets and moves are: what
 * the generic lines (baseline, deployed, summary, sensitivity) print.
 */
export function labelled(n: NetworkReport): NetworkReport {
  return {
    ...n,
    deployed: { ...n.deployed, cut: configName(n.deployed) },
    conditions: n.conditions.map((c) => ({ ...c, best: { ...c.best, cut: configName(c.best) } })),
  };
}

/** "three tiers (device -> edge -> cloud): 21 configurations measured, 10 of them three-tier; points input_1 ... act_softmax". */
export function tiersLine(n: NetworkReport): string {
  const t = n.tiers!;
  return `three tiers (device -> edge -> cloud): ${t.configs} configuration(s) (x|y: the device computes up to x, the edge up to y, the cloud the rest) measured, ${t.three_tier_configs} of them with all three tiers computing`;
}

/** The additive (Scission-style) prediction against the measurement, one line. */
export function additiveLine(n: NetworkReport, varying: FactorName[]): string {
  const a = n.additive_check;
  if (!a) return '';
  if (a.configs === 0) return `additive prediction (Scission): no three-tier configuration could be predicted (each needs (x, x) or (x, output), (input, x), (input, y), and (y, y) or (input, y) measured in its condition); calibration: ${a.calibration_configs} configuration(s) with a tier unused`;
  const w = a.worst!;
  const c = n.conditions.find((x) => x.key === w.condition);
  const where = c ? conditionLabel(c.factors, varying) : w.condition;
  return `additive prediction (Scission: parts measured with a tier unused, added) against the measured median total: median error ${pctAbs(a.median_error)}, max ${pctAbs(a.max_error)} over ${a.configs} (condition, three-tier configuration) pair(s), calibrated on ${a.calibration_configs} with a tier unused; worst ${where} ${configName(w)}: predicted ${ms(w.predicted_ms)} ms, measured ${ms(w.measured_ms)} ms`;
}

function pctAbs(v: number | null): string {
  return v === null ? '-' : `${(100 * v).toFixed(1)} %`;
}

/** "best a|b (device+edge+cloud) 12.3 [11.9, 12.8] ms" */
export function bestLabel(t: TierAnswer): string {
  const iv = t.best.low_ms !== null && t.best.high_ms !== null ? ` [${ms(t.best.low_ms)}, ${ms(t.best.high_ms)}]` : '';
  return `${configName(t.best)} (${t.best.uses}) ${ms(t.best.total_ms)}${iv} ms`;
}

/** "three tiers beat two: +14.6% [+5.1%, +22.0%] significant (a|b 12.3 ms vs c|d 14.1 ms)" */
export function versusLabel(t: TierAnswer): string {
  if (!t.best_three_tier) return 'no three-tier configuration measured';
  if (!t.best_two_tier) return 'no configuration with a tier unused measured';
  const three = `${configName(t.best_three_tier)} ${ms(t.best_three_tier.total_ms)} ms`;
  const two = `${configName(t.best_two_tier)} (${t.best_two_tier.uses}) ${ms(t.best_two_tier.total_ms)} ms`;
  const sig = t.significance === 'unknown' ? '' : ` ${t.significance}`;
  const gain = t.significance === 'unknown' ? pct(t.gain) : `${pct(t.gain)} ${interval(t.gain_low, t.gain_high)}`;
  return `${t.three_tier_wins ? 'three tiers beat two' : 'two tiers beat three'}: ${gain}${sig} (best three-tier ${three} vs best two-tier ${two})`;
}

/** Columns of the per-condition table of a three-tier run. */
export const TIER_HEADER = ['best x|y', 'tiers', 'best total', 'interval', 'best three-tier', 'best two-tier', '3 vs 2 tiers [interval]', '', 'deployed total', 'tie set'];

export function tierRow(c: ConditionReport): string[] {
  const t = c.tiers!;
  return [
    configName(t.best),
    t.best.uses,
    ms(t.best.total_ms),
    t.best.low_ms !== null && t.best.high_ms !== null ? `[${ms(t.best.low_ms)}, ${ms(t.best.high_ms)}]` : '-',
    t.best_three_tier ? `${configName(t.best_three_tier)} ${ms(t.best_three_tier.total_ms)}` : '-',
    t.best_two_tier ? `${configName(t.best_two_tier)} ${ms(t.best_two_tier.total_ms)}` : '-',
    t.gain === null ? '-' : t.significance === 'unknown' ? pct(t.gain) : `${pct(t.gain)} ${interval(t.gain_low, t.gain_high)}`,
    t.three_tier_wins === null ? '' : `${t.three_tier_wins ? '3' : '2'} wins${t.significance === 'significant' ? ' *' : t.significance === 'not significant' ? ' (n.s.)' : ''}`,
    ms(c.deployed_ms),
    tieSetLabel(c.tie_set),
  ];
}

/** A condition's configurations as a matrix: x rows, y columns (the points that appear), a row per cell or null (unmeasured); undefined below the diagonal (y before x). */
export function tierMatrix(n: NetworkReport, c: ConditionReport): { xs: string[]; ys: string[]; cell: (x: string, y: string) => PointRow | null | undefined } {
  const points = n.tiers!.points;
  const order = new Map(points.map((p, i) => [p, i]));
  const measured = new Set(n.conditions.flatMap((d) => d.cuts.flatMap((p) => [p.cut, p.cut2!])));
  const used = points.filter((p) => measured.has(p));
  const rows = new Map(c.cuts.map((p) => [configName(p), p]));
  return {
    xs: used,
    ys: used,
    cell: (x, y) => (order.get(y)! < order.get(x)! ? undefined : (rows.get(tierLabel(x, y)) ?? null)),
  };
}
