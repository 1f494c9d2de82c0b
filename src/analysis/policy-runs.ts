import type { PolicyRun } from '../results/log-reader.js';
import { tagSafe } from '../results/log-lines.js';
import type { StreamLine } from '../results/stream-lines.js';
import { statsOf } from './histogram-stats.js';
import { median } from './stats.js';

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
  /** share of requests at the oracle's choice (0..1) */
  oracle_agreement: number;
  /** best static policy's mean / this mean - 1 (positive: faster than the best static); null for no static policy */
  gain_over_best_static: number | null;
  /** median of (first request after a switch - the next requests at the same point in the same condition), ms; null without switches */
  switch_penalty_ms: number | null;
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
}

type Request = { t_ms: number; condition: string; rate_mbit: number | null; est_mbit: number | null; cut: string; oracle_cut: string; switched: boolean; total_ms: number; probe_ms?: number };

/** The first request after a switch against the next (up to 3) requests at the same point and condition. */
export function switchPenalty(requests: Request[]): number | null {
  const penalties: number[] = [];
  requests.forEach((r, i) => {
    if (!r.switched || r.probe_ms !== undefined) return;
    const steady: number[] = [];
    for (let j = i + 1; j < requests.length && steady.length < 3; j++) {
      const q = requests[j]!;
      if (q.cut !== r.cut || q.condition !== r.condition || q.switched) break;
      if (q.probe_ms === undefined) steady.push(q.total_ms);
    }
    if (steady.length) penalties.push(r.total_ms - median(steady));
  });
  return penalties.length ? median(penalties) : null;
}

/** `streams`: the `#dnn-stream` lines of policies replayed under a camera (cell `policy=P;trace=T`). */
export function summarizeAdaptive(network: string, runs: PolicyRun[], streams: readonly StreamLine[] = []): AdaptiveEntry[] {
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
        oracle_agreement: reqs.length ? reqs.filter((q) => q.cut === q.oracle_cut).length / reqs.length : 0,
        gain_over_best_static: null,
        switch_penalty_ms: switchPenalty(reqs),
        ...cameraCounts(streams.find((l) => l.cell === `policy=${tagSafe(r.policy)};trace=${tagSafe(trace)}`)),
      };
    });
    const statics = policies.filter((p) => p.policy.startsWith('static:'));
    const best = statics.reduce<PolicySummary | null>((a, b) => (a === null || b.mean_ms < a.mean_ms ? b : a), null);
    if (best) for (const p of policies) p.gain_over_best_static = best.mean_ms / p.mean_ms - 1;
    const lateness = mine.flatMap((r) => r.applied.map((a) => Math.abs(Number(a['applied_ms']) - Number(a['scheduled_ms']))));
    return {
      network,
      trace,
      best_static: best?.policy ?? null,
      policies,
      timelines: Object.fromEntries(
        mine.map((r) => [r.policy, (r.requests as unknown as Request[]).map((q) => ({ t_ms: q.t_ms, rate_mbit: q.rate_mbit, est_mbit: q.est_mbit, cut: q.cut, total_ms: q.total_ms }))]),
      ),
      max_step_lateness_ms: lateness.length ? Math.max(...lateness) : null,
    };
  });
}

/** A camera replay's counts for its policy's summary (nothing without one). */
function cameraCounts(l: StreamLine | undefined): Partial<PolicySummary> {
  if (!l) return {};
  return { scenario: l.scenario, offered: l.offered, dropped: l.dropped, drop_fraction: l.offered > 0 ? l.dropped / l.offered : 0, fps: l.fps };
}
