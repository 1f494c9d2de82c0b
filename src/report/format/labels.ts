import { FACTORS } from '../../conditions/factors.js';
import { conditionLabel, gainWithInterval, interval, pct } from '../../analysis/condition-labels.js';
import { stressChanges } from '../../analysis/hindsight.js';
import type { ConditionReport, ExcludedArm, FactorName, NetworkReport, PointRow } from '../../analysis/findings.js';
import type { AdaptiveEntry } from '../../analysis/policy-runs.js';
import { canonical, type EndIdentity, type Testbed } from '../../analysis/testbed.js';

/** Short human labels shared by the table and the HTML page. */

export const FACTOR_LABEL = Object.fromEntries(FACTORS.map((f) => [f.field, f.label])) as Record<FactorName, string>;

export function ms(v: number | null): string {
  if (v === null) return '-';
  const a = Math.abs(v);
  return v.toFixed(a >= 100 ? 1 : a >= 10 ? 2 : 3);
}

/** Bytes (a count, never a time): "602.2 kB", "15.0 kB", "96 B"; '-' when not recorded. */
export function bytesLabel(v: number | null): string {
  if (v === null) return '-';
  if (v >= 1e6) return `${(v / 1e6).toFixed(2)} MB`;
  if (v >= 1e3) return `${(v / 1e3).toFixed(1)} kB`;
  return `${Math.round(v)} B`;
}

/** "mid@int8 (3.0 points lost: over the budget)" or "mid@int8-ch (no fidelity recorded: ...)". */
export function excludedLabel(e: ExcludedArm): string {
  return e.reason === 'over the budget'
    ? `${e.arm} (${e.top1_loss!.toFixed(1)} points of top-1 agreement lost: over the budget)`
    : `${e.arm} (lossy, no fidelity recorded: record it with dnn-cut --codecs or the sweep)`;
}

/** The tie set, shortened: the points not significantly slower than the best. */
export function tieSetLabel(tie: string[] | null): string {
  if (tie === null) return '-';
  return tie.length <= 3 ? tie.join(',') : `${tie.slice(0, 2).join(',')} +${tie.length - 2}`;
}

/** ' n=3 raced' after a raced-out point's figures (its interval rests on that many samples); '' for a point that ran all --reps. */
export function racedTag(p: PointRow | undefined): string {
  return p?.raced ? ` n=${p.samples} raced` : '';
}

/** A condition's raced-out points, "9/12"; '-' when none. */
export function racedCount(c: ConditionReport): string {
  const k = c.cuts.filter((p) => p.raced).length;
  return k ? `${k}/${c.cuts.length}` : '-';
}

/** "raced: N of M cells stopped early (K inferences saved of an exhaustive L)", or '' for a run that did not race. */
export function raceLine(n: NetworkReport): string {
  const r = n.race;
  if (!r) return '';
  const share = r.inferences_exhaustive ? `, ${((100 * r.inferences_saved) / r.inferences_exhaustive).toFixed(1)} %` : '';
  const tie = r.raced_in_tie_set
    ? `; ${r.raced_in_tie_set} raced-out point${r.raced_in_tie_set === 1 ? ' is' : 's are'} in ${r.raced_in_tie_set === 1 ? 'its' : 'their'} condition's tie set (too few samples to rule out at the report's correction)`
    : '';
  return `raced: ${r.raced_cells} of ${r.cells} cells stopped early (${r.inferences_saved} inferences saved of an exhaustive ${r.inferences_exhaustive}${share})${tie}`;
}

export function times(v: number | null): string {
  return v === null ? '-' : `${v.toFixed(2)}x`;
}

export function baselineOf(n: NetworkReport): ConditionReport {
  return n.conditions.find((c) => c.key === n.baseline.key)!;
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

/**
 * The adaptive runs as table rows: policy, requests, p50, p95, mean, gain over the best static and
 * regret against the hindsight best (each with its bootstrap interval), explore share, switches,
 * oracle agreement, switch penalty (a camera replay: drops and frames/s); then the hindsight row.
 */
export function adaptiveRows(e: AdaptiveEntry): string[][] {
  const camera = isCameraReplay(e);
  const rows = e.policies.map((p) => [
    p.policy + (p.policy === e.best_static ? ' (best static)' : ''),
    String(p.requests),
    ms(p.p50_ms),
    ms(p.p95_ms),
    ms(p.mean_ms),
    p.policy === e.best_static ? pct(p.gain_over_best_static) : withCi(p.gain_over_best_static, p.gain_over_best_static_ci),
    withCi(p.regret_vs_hindsight, p.regret_vs_hindsight_ci),
    `${(100 * p.explore_share).toFixed(1)}%`,
    String(p.switches),
    p.oracle_agreement === null ? '-' : `${(100 * p.oracle_agreement).toFixed(0)}%`,
    ms(p.switch_penalty_ms),
    ...(camera ? [p.drop_fraction === undefined ? '-' : `${p.dropped}/${p.offered} (${(100 * p.drop_fraction).toFixed(1)}%)`, p.fps === undefined ? '-' : p.fps.toFixed(1)] : []),
  ]);
  if (e.hindsight_ms === null) return rows;
  const best = e.policies.find((p) => p.policy === e.best_static);
  const switches = e.hindsight_choices.filter((c, i) => i > 0 && c.policy !== e.hindsight_choices[i - 1]!.policy).length;
  rows.push([
    `hindsight (best static per ${e.hindsight_window_s} s)`,
    String(e.hindsight_requests),
    ms(e.hindsight_p50_ms),
    ms(e.hindsight_p95_ms),
    ms(e.hindsight_ms),
    best ? pct(best.mean_ms / e.hindsight_ms - 1) : '-',
    pct(0),
    '-',
    String(switches),
    '-',
    '-',
    ...(camera ? ['-', '-'] : []),
  ]);
  return rows;
}

/** "+4.1% [+1.2%, +7.0%]", or the figure alone without an interval. */
function withCi(v: number | null, ci: [number, number] | null): string {
  return ci === null || v === null ? pct(v) : `${pct(v)} ${interval(ci[0], ci[1])}`;
}

export const ADAPTIVE_HEADER = ['policy', 'requests', 'p50', 'p95', 'mean', 'gain vs best static [95% CI]', 'regret vs hindsight [95% CI]', 'explore', 'switches', 'oracle agreement', 'switch penalty'];

/** The adaptive table's header: a camera replay (--trace with --scenario stream:FPS) adds drops and frames/s. */
export function adaptiveHeader(e: AdaptiveEntry): string[] {
  return isCameraReplay(e) ? [...ADAPTIVE_HEADER, 'dropped', 'fps'] : ADAPTIVE_HEADER;
}

/** Below the adaptive table: what limits the hindsight best, then how the policies followed each change of an end's stress. */
export function adaptiveNotes(e: AdaptiveEntry): string[] {
  const steps = e.steps.map((s) => {
    const change = stressChanges(s.from, s.to).map(([k, a, b]) => `${k} ${a} -> ${b}`).join(', ');
    const reactions = Object.entries(s.reactions).map(([policy, r]) => (r ? `${policy} moved to ${r.to} after ${r.after_s.toFixed(1)} s` : `${policy} did not move`));
    return `step at ${s.t_s.toFixed(1)} s (${change}): ${reactions.length ? reactions.join('; ') : 'no adaptive policy'}`;
  });
  return [...e.hindsight_warnings.map((w) => `WARNING: ${w}`), ...steps, ...(e.three_tier ? [hindsightWindows(e)] : [])];
}

/** Three tiers: the configuration (x|y) the hindsight best took per window, runs of equal windows joined, e.g. "0-30 s a|b; 30-60 s c|d". */
function hindsightWindows(e: AdaptiveEntry): string {
  const w = e.hindsight_window_s;
  const runs: { from: number; to: number; policy: string }[] = [];
  for (const c of e.hindsight_choices) {
    const last = runs.at(-1);
    if (last && last.policy === c.policy && Math.abs(last.to - c.t0_s) < 1e-9) last.to = c.t0_s + w;
    else runs.push({ from: c.t0_s, to: c.t0_s + w, policy: c.policy });
  }
  const s = (v: number) => String(Math.round(v * 1000) / 1000);
  const moves = runs.length - 1;
  return `best configuration (x|y) per ${s(w)} s window (hindsight): ${runs.length ? runs.map((r) => `${s(r.from)}-${s(r.to)} s ${r.policy.replace(/^static:/, '')}`).join('; ') : '-'}${runs.length ? ` (${moves === 0 ? 'it never moves' : `${moves} move${moves === 1 ? '' : 's'}`})` : ''}`;
}

function isCameraReplay(e: AdaptiveEntry): boolean {
  return e.policies.some((p) => p.drop_fraction !== undefined);
}

export function adaptiveTitle(e: AdaptiveEntry): string {
  const late = e.max_step_lateness_ms === null ? '' : `; trace steps applied at most ${e.max_step_lateness_ms.toFixed(1)} ms off schedule`;
  const regret = e.hindsight_ms === null ? '' : '; regret = mean / hindsight mean - 1';
  return `adaptive runs: ${e.network} on ${e.trace} (latencies in ms; gain = best static mean / mean - 1${regret}${late})`;
}

/** e.g. "edge vm (Intel Xeon, 2 cores, wasm) / cloud vm (Intel Xeon, 2 cores, wasm)". */
export function describeTestbed(t: Testbed | null): string {
  if (!t) return 'not recorded (no run metadata)';
  const end = (e: EndIdentity) => {
    const facts = [e.cpu, e.cores === null ? null : `${e.cores} cores`, e.backend, e.threads === null ? null : `${e.threads} thread${e.threads === 1 ? "" : "s"}`, e.limits === null ? null : `limits ${canonical(e.limits)}`];
    return `${e.host} (${facts.filter((f) => f !== null).join(', ')})`;
  };
  return `edge ${end(t.edge)} / cloud ${end(t.cloud)}`;
}

/**
 * Data with encoded crossings: what the answer is chosen among (the fidelity budget and the arms it
 * leaves out), and where it differs from the f32 answer.
 */
export function encodingLines(n: NetworkReport, varying: FactorName[]): string[] {
  const b = n.fidelity_budget;
  if (!b) return [];
  const out = [
    `encoded crossings: the best (point, codec) within ${b.max_agreement_loss} point(s) of top-1 agreement lost against f32 (--max-agreement-loss); f32 answer beside it (its deployed point: ${n.deployed_f32 ?? '-'})`,
  ];
  if (b.excluded.length) out.push(`  left out: ${b.excluded.map(excludedLabel).join('; ')}`);
  const changes = n.encoding_changes ?? [];
  const label = (key: string) => conditionLabel(n.conditions.find((c) => c.key === key)!.factors, varying);
  // a large study changes many conditions: the first few, the rest in the JSON (encoding_changes)
  const SHOWN = 6;
  const shown = changes.slice(0, SHOWN).map((c) => `${label(c.condition)}: best ${c.best} (f32: ${c.best_f32})${c.move ? `, the point's move ${c.move}` : ''}`);
  const more = changes.length > SHOWN ? `; +${changes.length - SHOWN} more (JSON: encoding_changes)` : '';
  const removed = changes.filter((c) => c.move === 'removed').length;
  const created = changes.filter((c) => c.move === 'created').length;
  out.push(
    changes.length
      ? `  encoding changes the answer in ${changes.length} of ${n.conditions.length} condition(s) (point moves removed ${removed}, created ${created}): ${shown.join('; ')}${more}`
      : `  encoding changes neither the best point nor a move in any condition`,
  );
  return out;
}
