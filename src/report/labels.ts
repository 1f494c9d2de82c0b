import { CONDITION_KEYS, FACTORS } from '../conditions/factors.js';
import { UserError } from '../errors.js';
import type { ConditionReport, FactorName, Factors, NetworkReport } from './model.js';
import type { AdaptiveEntry } from './adaptive-runs.js';

/** Short human labels shared by the table and the HTML page. */

export const FACTOR_LABEL = Object.fromEntries(FACTORS.map((f) => [f.field, f.label])) as Record<FactorName, string>;

/** JSON name -> tag key (edge_cpu -> ecpu): the short form in tables and condition labels. */
const SHORT = Object.fromEntries(FACTORS.map((f) => [f.field, f.key])) as Record<FactorName, string>;

export function shortFactor(f: FactorName): string {
  return SHORT[f];
}

export function levelLabel(v: number | null): string {
  return v === null ? 'none' : String(v);
}

/** Factors that take more than one value in this network's conditions, in tag order. */
export function varyingFactors(n: Pick<NetworkReport, 'conditions'>): FactorName[] {
  const names = Object.keys(n.conditions[0]?.factors ?? {}) as FactorName[];
  return names.filter((f) => new Set(n.conditions.map((c) => c.factors[f])).size > 1);
}

/** e.g. "net=10 ecpu=50": the factors that vary (all of them when none does). */
export function conditionLabel(f: Factors, varying: FactorName[]): string {
  const shown = varying.length ? varying : FACTORS.map((x) => x.field);
  return shown.map((k) => `${SHORT[k]}=${levelLabel(f[k])}`).join(' ');
}

export function ms(v: number | null): string {
  if (v === null) return '-';
  const a = Math.abs(v);
  return v.toFixed(a >= 100 ? 1 : a >= 10 ? 2 : 3);
}

export function pct(v: number | null): string {
  return v === null ? '-' : `${v >= 0 ? '+' : ''}${(v * 100).toFixed(1)}%`;
}

/** An interval of gains, e.g. "[-1.2%, +7.5%]"; null ends are unbounded. */
export function interval(low: number | null, high: number | null): string {
  return `[${low === null ? '-inf' : pct(low)}, ${high === null ? '+inf' : pct(high)}]`;
}

/** A gain with its interval when one is known, e.g. "+12.2% [-3.0%, +20.1%]". */
export function gainWithInterval(gain: number | null, c: { significance: string; gain_low: number | null; gain_high: number | null }): string {
  return c.significance === 'unknown' || gain === null || gain === 0 ? pct(gain) : `${pct(gain)} ${interval(c.gain_low, c.gain_high)}`;
}

/** The tie set, shortened: the points not significantly slower than the best. */
export function tieSetLabel(tie: string[] | null): string {
  if (tie === null) return '-';
  return tie.length <= 3 ? tie.join(',') : `${tie.slice(0, 2).join(',')} +${tie.length - 2}`;
}

export function times(v: number | null): string {
  return v === null ? '-' : `${v.toFixed(2)}x`;
}

export function baselineOf(n: NetworkReport): ConditionReport {
  return n.conditions.find((c) => c.key === n.baseline.key)!;
}

/**
 * Parses a --condition selector: `key=value` pairs (tag keys: net, delay, jitter, loss, ecpu, emem,
 * ccpu, cmem...) separated by `;`, `,` or spaces, e.g. "net=10;ecpu=50". Unnamed factors match anything.
 */
export function parseConditionSelector(spec: string): Map<string, string> {
  const pairs = new Map<string, string>();
  for (const part of spec.split(/[;,\s]+/).filter(Boolean)) {
    const m = /^([a-z]+)=([^=]+)$/.exec(part);
    if (!m || !(CONDITION_KEYS as readonly string[]).includes(m[1]!)) {
      throw new UserError(`--condition: '${part}' is not key=value with a key among ${CONDITION_KEYS.join(', ')} (e.g. --condition "net=10;ecpu=50")`);
    }
    pairs.set(m[1], m[2]!);
  }
  if (pairs.size === 0) throw new UserError('--condition needs at least one key=value pair, e.g. --condition "net=10;ecpu=50"');
  return pairs;
}

/** The first condition (in report order) whose key has every selected value. */
export function selectCondition(n: NetworkReport, selector: Map<string, string>): ConditionReport | undefined {
  return n.conditions.find((c) => {
    const fields = new Map(c.key.split(';').map((kv) => kv.split('=') as [string, string]));
    return [...selector].every(([k, v]) => fields.get(k) === v || Number(fields.get(k)) === Number(v));
  });
}

/** The condition where repartitioning gains the most (the baseline when no gain exists). */
export function maxGainCondition(n: NetworkReport): ConditionReport {
  return n.conditions.find((c) => c.key === n.summary.max_gain_condition) ?? baselineOf(n);
}

export function deployedLine(n: NetworkReport): string {
  const why = n.deployed.reason === 'flag' ? 'given with --deployed' : 'the best point at the baseline condition';
  return `deployed point: ${n.deployed.cut} (${why})`;
}

export function baselineLine(n: NetworkReport, varying: FactorName[]): string {
  const b = baselineOf(n);
  const note = n.baseline.exact ? '' : ' - no condition has the fastest network with no delay, loss or stress, so the mildest one is used';
  return `baseline condition: ${conditionLabel(b.factors, varying)} [${b.key}]${note}`;
}

export function summaryLine(n: NetworkReport, minGain: number, varying: FactorName[], confidence = 0.95): string {
  const s = n.summary;
  const at = n.conditions.find((c) => c.key === s.max_gain_condition);
  const share = s.conditions ? ` (${((100 * s.repartition) / s.conditions).toFixed(1)}%)` : '';
  const max =
    s.max_gain === null
      ? ''
      : `; largest gain ${at ? gainWithInterval(s.max_gain, at) : pct(s.max_gain)} at ${at ? conditionLabel(at.factors, varying) : s.max_gain_condition} (best point ${s.max_gain_best_cut}${at && at.significance !== 'unknown' && at.best.cut !== n.deployed.cut ? `, ${at.significance}` : ''})`;
  const rule = n.power ? `best point differs, gain >= ${pct(minGain)} and significant at ${(100 * confidence).toFixed(0)} %` : `best point differs and gain >= ${pct(minGain)}`;
  const apart = s.repartition_not_significant ? `; ${s.repartition_not_significant} more move${s.repartition_not_significant === 1 ? '' : 's'} not significant` : '';
  return `${s.conditions} condition${s.conditions === 1 ? '' : 's'}; repartitioning needed in ${s.repartition}${share} (${rule})${apart}${max}`;
}

/** "significant 3/4 (75%), 1 not significant" for a sensitivity row. */
export function movedLabel(s: { best_moved: number; pairs: number; best_moved_frac: number; best_moved_not_significant: number }): string {
  const share = s.pairs ? ` (${(100 * s.best_moved_frac).toFixed(0)}%)` : '';
  return `${s.best_moved}/${s.pairs}${share}${s.best_moved_not_significant ? `, ${s.best_moved_not_significant} not significant` : ''}`;
}

/** The line that marks a report of predicted conditions, or '' for measured ones. */
export function predictedLine(n: NetworkReport): string {
  if (n.predicted_from === undefined || !n.cost_model) return '';
  const m = n.cost_model;
  return (
    `PREDICTED by the cost model fitted on ${n.predicted_from} measured condition(s), not measured ` +
    `(link: rate factor ${m.beta.toFixed(3)}${m.beta_fitted ? ' fitted' : ' physical'}, delay factor ${m.gamma.toFixed(3)}${m.gamma_fitted ? ' fitted' : ' physical'})`
  );
}

/** "conv2 up to 3.1 | pool1 3.1-18.6 | input above 18.6" (Mbit/s), slowest link first. */
export function thresholdLine(ranges: { cut: string; min_mbit: number; max_mbit: number | null }[]): string {
  const r = (v: number) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
  return [...ranges]
    .reverse()
    .map((x) => `${x.cut} ${x.min_mbit === 0 ? (x.max_mbit === null ? 'at any rate' : `below ${r(x.max_mbit)}`) : x.max_mbit === null ? `above ${r(x.min_mbit)}` : `${r(x.min_mbit)}-${r(x.max_mbit)}`}`)
    .join(' | ');
}

/** The adaptive runs as table rows: policy, requests, p50, p95, mean, gain over the best static, switches, oracle agreement, switch penalty. */
export function adaptiveRows(e: AdaptiveEntry): string[][] {
  return e.policies.map((p) => [
    p.policy + (p.policy === e.best_static ? ' (best static)' : ''),
    String(p.requests),
    ms(p.p50_ms),
    ms(p.p95_ms),
    ms(p.mean_ms),
    pct(p.gain_over_best_static),
    String(p.switches),
    `${(100 * p.oracle_agreement).toFixed(0)}%`,
    ms(p.switch_penalty_ms),
  ]);
}

export const ADAPTIVE_HEADER = ['policy', 'requests', 'p50', 'p95', 'mean', 'gain vs best static', 'switches', 'oracle agreement', 'switch penalty'];

export function adaptiveTitle(e: AdaptiveEntry): string {
  const late = e.max_step_lateness_ms === null ? '' : `; trace steps applied at most ${e.max_step_lateness_ms.toFixed(1)} ms off schedule`;
  return `adaptive runs: ${e.network} on ${e.trace} (latencies in ms; gain = best static mean / mean - 1${late})`;
}
