import type { PolicyRun } from '../results/log-reader.js';
import { tagSafe } from '../results/log-lines.js';
import type { StreamLine } from '../results/stream-lines.js';
import { statsOf } from './histogram-stats.js';
import { median } from './stats.js';
import { configName } from './tier-kinds.js';
import {
  DEFAULT_HINDSIGHT_WINDOW_S,
  FEW_WINDOW_REQUESTS,
  exploreShare,
  hindsightBest,
  hindsightSeries,
  ratioInterval,
  resampleWindows,
  stressSteps,
  timedRequests,
  windowSeries,
  windowsOf,
  type StressStep,
} from './hindsight.js';

/**
 * Adaptive runs (dnn-edge --trace) in the report: per (network, trace) every policy's latency,
 * its gain over the best static policy, switches, agreement with the oracle and the switch
 * penalty. Pure functions of the results files' policy runs.
 */
export interface PolicySummary {
  policy: string;
  requests: number;
  p50_ms: number;
  p95_ms: number;
  mean_ms: number;
  switches: number;
  /** share of requests at the oracle's choice (0..1); null when the run had no oracle (three-tier replays) */
  oracle_agreement: number | null;
  /** best static policy's mean / this mean - 1 (positive: faster than the best static); null for no static policy */
  gain_over_best_static: number | null;
  /** median of (first request after a switch - the next requests at the same point in the same condition), ms; null without switches */
  switch_penalty_ms: number | null;
  /** this mean / the hindsight best's - 1 (positive: slower than hindsight); null without a hindsight best */
  regret_vs_hindsight: number | null;
  /** 95 % bootstrap interval over windows of regret_vs_hindsight */
  regret_vs_hindsight_ci: [number, number] | null;
  /** 95 % bootstrap interval over windows of gain_over_best_static */
  gain_over_best_static_ci: [number, number] | null;
  /** share of requests the policy chose to explore (`explore: true`); 0 for policies that never explore */
  explore_share: number;
  /** trace replay with a camera (--scenario stream:FPS) only: the policy's frames offered, dropped, dropped / offered and frames/s */
  scenario?: string;
  offered?: number;
  dropped?: number;
  drop_fraction?: number;
  fps?: number;
}

export interface TimelinePoint {
  t_ms: number;
  rate_mbit: number | null;
  est_mbit: number | null;
  cut: string;
  total_ms: number;
}

export interface AdaptiveEntry {
  network: string;
  trace: string;
  best_static: string | null;
  policies: PolicySummary[];
  /** per policy, for the HTML timeline (not in the JSON) */
  timelines: Record<string, TimelinePoint[]>;
  /** scheduled vs applied trace steps: the largest lateness, ms */
  max_step_lateness_ms: number | null;
  /** the hindsight best: per window the static policy with the lowest mean, stitched; null without static policies */
  hindsight_ms: number | null;
  hindsight_window_s: number;
  /** the static policies the hindsight best chose among */
  hindsight_statics: number;
  /** the arms the run could choose (the report's arms within the fidelity budget), null when unknown */
  hindsight_arms: number | null;
  /** a three-tier replay (--tiers 3 --trace: request lines with cut2): its statics are configurations x|y; absent for two tiers */
  three_tier?: true;
  /** per window (start, s into the trace) the static policy chosen */
  hindsight_choices: { t0_s: number; policy: string }[];
  /** the stitched requests: how many, their p50 and p95 */
  hindsight_requests: number;
  hindsight_p50_ms: number | null;
  hindsight_p95_ms: number | null;
  /** median over windows of the requests per static policy in the window */
  hindsight_window_requests: number | null;
  /** what limits the hindsight best as an upper bound (not static:all, few requests per window) */
  hindsight_warnings: string[];
  /** trace steps that change a stress factor (edge or cloud CPU or memory), with each non-static policy's reaction; empty for link-only traces */
  steps: StressStep[];
}

export interface AdaptiveOptions {
  /** --hindsight-window: seconds per window of the hindsight best and the bootstrap (default 5) */
  windowS?: number;
  /** how many arms the run could choose (to say whether the statics cover them all) */
  arms?: number | null;
}

type Request = { t_ms: number; condition: string; rate_mbit: number | null; est_mbit: number | null; cut: string; cut2?: string; oracle_cut: string; switched: boolean; total_ms: number; probe_ms?: number };

/** A request's arm: the cut (two tiers), or the configuration `x|y` (a three-tier replay: oracle_cut names one so). */

/** The first request after a switch against the next (up to 3) requests at the same point and condition. */
export function switchPenalty(requests: Request[]): number | null {
  const penalties: number[] = [];
  requests.forEach((r, i) => {
    if (!r.switched || r.probe_ms !== undefined) return;
    const steady: number[] = [];
    for (let j = i + 1; j < requests.length && steady.length < 3; j++) {
      const q = requests[j]!;
      if (configName(q) !== configName(r) || q.condition !== r.condition || q.switched) break;
      if (q.probe_ms === undefined) steady.push(q.total_ms);
    }
    if (steady.length) penalties.push(r.total_ms - median(steady));
  });
  return penalties.length ? median(penalties) : null;
}

/** `streams`: the `#dnn-stream` lines of policies replayed under a camera (cell `policy=P;trace=T`). */
export function summarizeAdaptive(network: string, runs: PolicyRun[], streams: readonly StreamLine[] = [], opts: AdaptiveOptions = {}): AdaptiveEntry[] {
  const windowS = opts.windowS ?? DEFAULT_HINDSIGHT_WINDOW_S;
  const traces = [...new Set(runs.map((r) => r.trace))];
  return traces.map((trace) => {
    const mine = runs.filter((r) => r.trace === trace && r.histograms.total);
    const policies: PolicySummary[] = mine.map((r) => {
      const st = statsOf(r.histograms.total!);
      const reqs = r.requests as unknown as Request[];
      return {
        policy: r.policy,
        requests: st.samples,
        p50_ms: st.p50,
        p95_ms: st.p95,
        mean_ms: st.mean,
        switches: reqs.filter((q) => q.switched).length,
        oracle_agreement: !reqs.length ? 0 : reqs.some((q) => q.oracle_cut !== undefined) ? reqs.filter((q) => configName(q) === q.oracle_cut).length / reqs.length : null,
        gain_over_best_static: null,
        switch_penalty_ms: switchPenalty(reqs),
        regret_vs_hindsight: null,
        regret_vs_hindsight_ci: null,
        gain_over_best_static_ci: null,
        explore_share: exploreShare(timedRequests(r)),
        ...cameraCounts(streams.find((l) => l.cell === `policy=${tagSafe(r.policy)};trace=${tagSafe(trace)}`)),
      };
    });
    const statics = policies.filter((p) => p.policy.startsWith('static:'));
    const best = statics.reduce<PolicySummary | null>((a, b) => (a === null || b.mean_ms < a.mean_ms ? b : a), null);
    if (best) for (const p of policies) p.gain_over_best_static = best.mean_ms / p.mean_ms - 1;
    const hindsight = withHindsight(mine, policies, best?.policy ?? null, windowS, opts.arms ?? null);
    const lateness = mine.flatMap((r) => r.applied.map((a) => Math.abs(Number(a['applied_ms']) - Number(a['scheduled_ms']))));
    return {
      network,
      trace,
      best_static: best?.policy ?? null,
      policies,
      timelines: Object.fromEntries(
        mine.map((r) => [r.policy, (r.requests as unknown as Request[]).map((q) => ({ t_ms: q.t_ms, rate_mbit: q.rate_mbit, est_mbit: q.est_mbit, cut: configName(q), total_ms: q.total_ms }))]),
      ),
      max_step_lateness_ms: lateness.length ? Math.max(...lateness) : null,
      ...(mine.some((r) => r.requests.some((q) => q['cut2'] !== undefined)) ? { three_tier: true as const } : {}),
      ...hindsight,
      steps: stressSteps(mine),
    };
  });
}

type HindsightFields = Omit<AdaptiveEntry, 'network' | 'trace' | 'best_static' | 'policies' | 'timelines' | 'max_step_lateness_ms' | 'steps'>;

/**
 * The hindsight best over the run's static policies, and (filled into `policies`) every policy's
 * regret against it and the bootstrap intervals over windows of that regret and of the gain over
 * the best static policy (the same resamples for every policy, so they are paired).
 */
function withHindsight(runs: PolicyRun[], policies: PolicySummary[], bestStatic: string | null, windowS: number, arms: number | null): HindsightFields {
  const timed = runs.map((r) => ({ policy: r.policy, requests: timedRequests(r) }));
  const statics = timed.filter((r) => r.policy.startsWith('static:') && r.requests.length);
  const h = hindsightBest(statics, windowS);
  const windows = windowsOf(timed, windowS);
  const draws = resampleWindows(windows.length);
  const hs = hindsightSeries(statics, h, windows);
  const bestRequests = timed.find((r) => r.policy === bestStatic)?.requests;
  const bs = bestRequests && windowSeries(bestRequests, windows, windowS);
  // policies[i] summarizes runs[i] (a policy run twice, e.g. two files of one trace, is two rows)
  policies.forEach((p, i) => {
    const mine = windowSeries(timed[i]!.requests, windows, windowS);
    if (!mine.n.some((n) => n > 0)) return;
    if (h.mean_ms !== null) {
      p.regret_vs_hindsight = p.mean_ms / h.mean_ms - 1;
      p.regret_vs_hindsight_ci = ratioInterval(mine, hs, draws);
    }
    if (bs) p.gain_over_best_static_ci = ratioInterval(bs, mine, draws);
  });
  const sorted = [...h.totals].sort((a, b) => a - b);
  return {
    hindsight_ms: h.mean_ms,
    hindsight_window_s: windowS,
    hindsight_statics: h.statics,
    hindsight_arms: arms,
    hindsight_choices: h.choices,
    hindsight_requests: h.totals.length,
    hindsight_p50_ms: sorted.length ? nearestRank(sorted, 0.5) : null,
    hindsight_p95_ms: sorted.length ? nearestRank(sorted, 0.95) : null,
    hindsight_window_requests: h.window_requests,
    hindsight_warnings: h.mean_ms === null ? [] : hindsightWarnings(h.statics, arms, h.window_requests, windowS),
  };
}

/** The percentile as HdrHistogram takes it (the value at rank ceil(q n)), so the hindsight row reads like the policies'. */
function nearestRank(sorted: number[], q: number): number {
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)]!;
}

function hindsightWarnings(statics: number, arms: number | null, perWindow: number | null, windowS: number): string[] {
  const out: string[] = [];
  if (arms === null) out.push(`the hindsight best is over the run's ${statics} static policies (how many arms the run could choose is unknown here); it is the upper bound over every arm only with --policies ...,static:all`);
  else if (statics < arms) out.push(`the hindsight best is over the run's ${statics} static policies, not over all ${arms} arms it could choose: not an upper bound over every arm (run with --policies ...,static:all)`);
  if (perWindow !== null && perWindow < FEW_WINDOW_REQUESTS) {
    out.push(`the median window holds ${perWindow.toFixed(1)} requests per static policy (fewer than ${FEW_WINDOW_REQUESTS}): the hindsight best, a minimum over noisy window means, is biased low and the regrets high; a longer --hindsight-window (now ${windowS} s) evens it out`);
  }
  return out;
}

/** A camera replay's counts for its policy's summary (nothing without one). */
function cameraCounts(l: StreamLine | undefined): Partial<PolicySummary> {
  if (!l) return {};
  return { scenario: l.scenario, offered: l.offered, dropped: l.dropped, drop_fraction: l.offered > 0 ? l.dropped / l.offered : 0, fps: l.fps };
}
