import { STRESS_FACTORS } from '../conditions/factors.js';
import { rng } from '../random.js';
import type { PolicyRun } from '../results/log-reader.js';
import { median } from './stats.js';

/**
 * The measured hindsight best of an adaptive run and every policy's regret against it (issue 21):
 * per window of request start times, the static policy with the lowest mean total is the
 * hindsight choice; stitching the chosen statics' requests window by window gives the latency of
 * always taking it. Intervals come from a seeded bootstrap over windows. Pure functions of the
 * results files' policy runs.
 */

export const DEFAULT_HINDSIGHT_WINDOW_S = 5;
export const BOOTSTRAP_RESAMPLES = 2000;
/** fixed so that the same files give the same report */
export const BOOTSTRAP_SEED = 21;
/** below this many requests per static in the median window, the minimum over window means is biased low (the winner's curse) */
export const FEW_WINDOW_REQUESTS = 5;

/** What the hindsight and the regret need of a `#dnn-request` line. */
export interface TimedRequest {
  t_ms: number;
  total_ms: number;
  cut: string;
  switched: boolean;
  /** the policy chose this arm to learn its cost (absent: it predicted it best) */
  explore?: boolean;
}

/** A policy's request lines that carry a start time and a total (others are left out). */
export function timedRequests(run: Pick<PolicyRun, 'requests'>): TimedRequest[] {
  return run.requests
    .filter((r) => typeof r['t_ms'] === 'number' && typeof r['total_ms'] === 'number')
    .map((r) => ({ t_ms: r['t_ms'] as number, total_ms: r['total_ms'] as number, cut: String(r['cut']), switched: r['switched'] === true, ...(r['explore'] === true ? { explore: true } : {}) }));
}

/** One policy's requests per window: sum of totals and count, over a shared list of windows. */
export interface WindowSeries {
  sum: number[];
  n: number[];
}

export interface PolicyRequests {
  policy: string;
  requests: TimedRequest[];
}

export interface HindsightBest {
  window_s: number;
  /** the static policies it chose among */
  statics: number;
  /** per window where some static has a request: its start (s into the trace) and the static chosen */
  choices: { t0_s: number; policy: string }[];
  /** the window index of each of `choices` (kept, not recomputed from t0_s: a fractional window does not divide back exactly) */
  choiceWindows: number[];
  /** the stitched requests' totals, in window order */
  totals: number[];
  /** mean of `totals`; null when no static has a timed request */
  mean_ms: number | null;
  /** over the windows of `choices`: the median of (requests of the statics in the window / statics) */
  window_requests: number | null;
}

const windowOf = (t_ms: number, windowS: number) => Math.floor(t_ms / (windowS * 1000));

/** Requests grouped by window index. */
function byWindow(requests: TimedRequest[], windowS: number): Map<number, TimedRequest[]> {
  const out = new Map<number, TimedRequest[]>();
  for (const r of requests) {
    const w = windowOf(r.t_ms, windowS);
    const list = out.get(w);
    if (list) list.push(r);
    else out.set(w, [r]);
  }
  return out;
}

const meanOf = (xs: number[]) => xs.reduce((s, v) => s + v, 0) / xs.length;

/**
 * The hindsight best over `statics` (the static policies' requests): per window, the static with
 * the lowest mean total over its requests starting in the window (ties: the earlier static);
 * windows where no static has a request are left out.
 */
export function hindsightBest(statics: PolicyRequests[], windowS: number): HindsightBest {
  const grouped = statics.map((s) => byWindow(s.requests, windowS));
  const windows = [...new Set(grouped.flatMap((g) => [...g.keys()]))].sort((a, b) => a - b);
  const choices: HindsightBest['choices'] = [];
  const choiceWindows: number[] = [];
  const totals: number[] = [];
  const perStatic: number[] = [];
  for (const w of windows) {
    let best: { i: number; mean: number } | null = null;
    let requests = 0;
    grouped.forEach((g, i) => {
      const reqs = g.get(w);
      if (!reqs) return;
      requests += reqs.length;
      const mean = meanOf(reqs.map((r) => r.total_ms));
      if (best === null || mean < best.mean) best = { i, mean };
    });
    const chosen = best as { i: number; mean: number } | null;
    if (!chosen) continue;
    choices.push({ t0_s: w * windowS, policy: statics[chosen.i]!.policy });
    choiceWindows.push(w);
    totals.push(...grouped[chosen.i]!.get(w)!.map((r) => r.total_ms));
    perStatic.push(requests / statics.length);
  }
  return {
    window_s: windowS,
    statics: statics.length,
    choices,
    choiceWindows,
    totals,
    mean_ms: totals.length ? meanOf(totals) : null,
    window_requests: perStatic.length ? median(perStatic) : null,
  };
}

/** The windows (indices) in which any of the runs has a request: the bootstrap's units. */
export function windowsOf(runs: PolicyRequests[], windowS: number): number[] {
  return [...new Set(runs.flatMap((r) => r.requests.map((q) => windowOf(q.t_ms, windowS))))].sort((a, b) => a - b);
}

/** `requests` summed per window of `windows` (0 where it has none). */
export function windowSeries(requests: TimedRequest[], windows: number[], windowS: number): WindowSeries {
  const slot = new Map(windows.map((w, i) => [w, i]));
  const sum = windows.map(() => 0);
  const n = windows.map(() => 0);
  for (const r of requests) {
    const i = slot.get(windowOf(r.t_ms, windowS));
    if (i === undefined) continue;
    sum[i]! += r.total_ms;
    n[i]!++;
  }
  return { sum, n };
}

/** The stitched hindsight requests per window of `windows`: the chosen static's in each. */
export function hindsightSeries(statics: PolicyRequests[], best: HindsightBest, windows: number[]): WindowSeries {
  const chosen = new Map(best.choices.map((c, i) => [best.choiceWindows[i]!, c.policy]));
  const stitched = statics.flatMap((s) => s.requests.filter((r) => chosen.get(windowOf(r.t_ms, best.window_s)) === s.policy));
  return windowSeries(stitched, windows, best.window_s);
}

/** `resamples` draws of `k` window slots with replacement, from a seeded generator (the report is deterministic). */
export function resampleWindows(k: number, resamples = BOOTSTRAP_RESAMPLES, seed = BOOTSTRAP_SEED): Int32Array[] {
  const random = rng(seed);
  return Array.from({ length: resamples }, () => Int32Array.from({ length: k }, () => Math.floor(random() * k)));
}

/**
 * The percentile interval (`level`, default 95 %) of mean(a) / mean(b) - 1 over the resampled
 * windows, both means recomputed from each resample's windows' requests. Null when no resample
 * has requests of both (or there is only one window: nothing to resample).
 */
export function ratioInterval(a: WindowSeries, b: WindowSeries, draws: Int32Array[], level = 0.95): [number, number] | null {
  if (a.n.length < 2) return null;
  const ratios: number[] = [];
  for (const draw of draws) {
    let sa = 0;
    let na = 0;
    let sb = 0;
    let nb = 0;
    for (const i of draw) {
      sa += a.sum[i]!;
      na += a.n[i]!;
      sb += b.sum[i]!;
      nb += b.n[i]!;
    }
    if (na > 0 && nb > 0 && sb > 0) ratios.push(sa / na / (sb / nb) - 1);
  }
  if (ratios.length === 0) return null;
  ratios.sort((x, y) => x - y);
  return [quantile(ratios, (1 - level) / 2), quantile(ratios, (1 + level) / 2)];
}

/** Linear interpolation between the closest ranks of sorted `xs` (type 7). */
export function quantile(xs: number[], q: number): number {
  const pos = (xs.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, xs.length - 1);
  return xs[lo]! + (xs[hi]! - xs[lo]!) * (pos - lo);
}

/** Share of the requests the policy chose to explore (0 for a policy that never explores). */
export function exploreShare(requests: TimedRequest[]): number {
  return requests.length ? requests.filter((r) => r.explore).length / requests.length : 0;
}

export interface StepReaction {
  /** seconds from the step (its scheduled time) to the start of the policy's first request, not an exploring one, on another arm than before the step */
  after_s: number;
  /** the arm it moved to */
  to: string;
}

/** A trace step that changes a stress factor, and how each non-static policy followed it. */
export interface StressStep {
  /** the step's scheduled time, s into the trace */
  t_s: number;
  /** the conditions before and after it (tag syntax, as in `#dnn-applied`) */
  from: string;
  to: string;
  /** per non-static policy its first move after the step (to an arm other than the one it held before the step; explored requests do not count), null when it did not move before the next such step or the end */
  reactions: Record<string, StepReaction | null>;
}

/** `k=v;k=v` -> map. */
function conditionFactors(key: string): Map<string, string> {
  return new Map(key.split(';').map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)] as const));
}

/** The stress factors that differ between two conditions, e.g. `[['ecpu', '0', '100']]`. */
export function stressChanges(from: string, to: string): [string, string, string][] {
  const a = conditionFactors(from);
  const b = conditionFactors(to);
  // a step that changes an end's CPU or memory stress changes that end's speed
  return STRESS_FACTORS.filter((k) => (a.get(k) ?? '0') !== (b.get(k) ?? '0')).map((k) => [k, a.get(k) ?? '0', b.get(k) ?? '0']);
}

/**
 * The steps of the replayed trace (the `#dnn-applied` lines of the first run that has them: every
 * policy replays the same schedule) that change a stress factor, with each non-static policy's
 * first move after it. Empty for traces that change only the link.
 */
export function stressSteps(runs: PolicyRun[]): StressStep[] {
  const applied = runs.find((r) => r.applied.length)?.applied ?? [];
  const schedule = applied
    .filter((a) => typeof a['condition'] === 'string' && typeof a['scheduled_ms'] === 'number')
    .map((a) => ({ step: Number(a['step'] ?? 0), condition: a['condition'] as string, ms: a['scheduled_ms'] as number }))
    .sort((x, y) => x.step - y.step || x.ms - y.ms);
  const changes = schedule.filter((s, i) => i > 0 && stressChanges(schedule[i - 1]!.condition, s.condition).length > 0);
  const adaptive = runs.filter((r) => !r.policy.startsWith('static:')).map((r) => ({ policy: r.policy, requests: timedRequests(r) }));
  return changes.map((s, i) => {
    const until = changes[i + 1]?.ms ?? Infinity;
    const from = schedule[schedule.indexOf(s) - 1]!.condition;
    const reactions = Object.fromEntries(
      adaptive.map(({ policy, requests }) => {
        // exploring is not following: an explored arm (and the way back from it) does not count
        const chosen = requests.filter((r) => !r.explore);
        const before = chosen.filter((r) => r.t_ms < s.ms).at(-1)?.cut;
        const first = chosen.find((r) => r.t_ms >= s.ms && r.t_ms < until && (before === undefined ? r.switched : r.cut !== before));
        return [policy, first ? { after_s: (first.t_ms - s.ms) / 1000, to: first.cut } : null];
      }),
    );
    return { t_s: s.ms / 1000, from, to: s.condition, reactions };
  });
}
