// test-process: shared (pure: no backend, environment, signal handlers or children; see test/run-shared.ts)
import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  exploreShare,
  hindsightBest,
  hindsightSeries,
  ratioInterval,
  resampleWindows,
  stressChanges,
  stressSteps,
  windowSeries,
  windowsOf,
  type TimedRequest,
} from '../../src/analysis/hindsight.js';
import { summarizeAdaptive } from '../../src/analysis/policy-runs.js';
import { buildReport } from '../../src/analysis/build-report.js';
import { loadResultFiles } from '../../src/analysis/load-results.js';
import { APPLIED_PREFIX, REQUEST_PREFIX, newLatencyHistogram, policyText } from '../../src/results/log-lines.js';
import type { PolicyRun } from '../../src/results/log-reader.js';
import { formatJson } from '../../src/report/format/json.js';
import { formatTable } from '../../src/report/format/table.js';
import { formatHtml } from '../../src/report/format/html.js';

/** In process, in milliseconds: the hindsight best, the bootstrap over windows and the stress steps on synthetic policy runs. */

const rq = (t_ms: number, total_ms: number, cut = 'a', o: { switched?: boolean; explore?: boolean } = {}): TimedRequest => ({ t_ms, total_ms, cut, switched: Boolean(o.switched), ...(o.explore ? { explore: true } : {}) });

/** Back-to-back requests from `from` to `to` ms, each taking `cost(t)` ms (+ a deterministic wobble). */
function stream(from: number, to: number, cut: string | ((t: number) => string), cost: (t: number) => number, o: { explore?: (i: number) => boolean } = {}): TimedRequest[] {
  const out: TimedRequest[] = [];
  let prev: string | undefined;
  for (let t = from, i = 0; t < to; i++) {
    const arm = typeof cut === 'string' ? cut : cut(t);
    const total = cost(t) * (1 + 0.1 * Math.sin(i * 1.7));
    out.push(rq(t, total, arm, { switched: prev !== undefined && arm !== prev, explore: o.explore?.(i) }));
    prev = arm;
    t += total;
  }
  return out;
}

const total = (xs: TimedRequest[]) => xs.reduce((s, r) => s + r.total_ms, 0);

t.test('hindsight: per window the static with the lowest mean, stitched; windows without a static left out', async (t) => {
  const a = [rq(0, 10), rq(1000, 12), rq(5000, 40), rq(6000, 42), rq(20_000, 5)];
  const b = [rq(0, 20), rq(2000, 22), rq(5000, 20), rq(7000, 24)];
  const h = hindsightBest([{ policy: 'static:a', requests: a }, { policy: 'static:b', requests: b }], 5);
  t.same(h.choices, [
    { t0_s: 0, policy: 'static:a' },
    { t0_s: 5, policy: 'static:b' },
    { t0_s: 20, policy: 'static:a' },
  ], 'windows 10-20 s have no static request: left out');
  t.same(h.totals, [10, 12, 20, 24, 5]);
  t.equal(h.mean_ms, (10 + 12 + 20 + 24 + 5) / 5);
  t.equal(h.statics, 2);
  t.equal(h.window_requests, 2, 'median of 2, 2 and 0.5 requests per static');
  t.equal(hindsightBest([], 5).mean_ms, null, 'no static policy: no hindsight');
});

t.test('hindsight is no slower than any static policy (back to back: a window holds more of the faster one\'s requests)', async (t) => {
  const a = stream(0, 60_000, 'a', (ms) => (ms < 30_000 ? 10 : 40));
  const b = stream(0, 60_000, 'b', () => 20);
  const h = hindsightBest([{ policy: 'static:a', requests: a }, { policy: 'static:b', requests: b }], 5);
  t.ok(h.mean_ms! < total(a) / a.length && h.mean_ms! < total(b) / b.length, `hindsight ${h.mean_ms} vs a ${total(a) / a.length}, b ${total(b) / b.length}`);
  t.same([...new Set(h.choices.map((c) => c.policy))], ['static:a', 'static:b']);
  t.equal(h.choices.find((c) => c.policy === 'static:b')!.t0_s, 30, 'b from the window where a slows down');
  // with windows of the whole run the hindsight best is the best static
  const whole = hindsightBest([{ policy: 'static:a', requests: a }, { policy: 'static:b', requests: b }], 1000);
  t.equal(whole.mean_ms, total(a) / a.length);
});

t.test('bootstrap over windows: seeded, paired, an exact ratio gives a point interval, one window gives none', async (t) => {
  const windows = [0, 1, 2, 3];
  const h = windowSeries([rq(0, 10), rq(5000, 20), rq(10_000, 30), rq(15_000, 15)], windows, 5);
  const slower = windowSeries([rq(0, 11), rq(5000, 22), rq(10_000, 33), rq(15_000, 16.5)], windows, 5);
  const draws = resampleWindows(4);
  t.equal(draws.length, 2000);
  t.same(resampleWindows(4)[17], draws[17], 'the same seed, the same resamples');
  const ci = ratioInterval(slower, h, draws)!;
  t.ok(Math.abs(ci[0] - 0.1) < 1e-9 && Math.abs(ci[1] - 0.1) < 1e-9, `10 % slower in every window: [${ci}]`);
  t.equal(ratioInterval(windowSeries([rq(0, 1)], [0], 5), windowSeries([rq(0, 2)], [0], 5), resampleWindows(1)), null);
  // noisy windows: the interval holds the full-sample ratio and is not a point
  const noisy = windowSeries([rq(0, 12), rq(5000, 18), rq(10_000, 36), rq(15_000, 15)], windows, 5);
  const [lo, hi] = ratioInterval(noisy, h, draws)!;
  const full = (12 + 18 + 36 + 15) / (10 + 20 + 30 + 15) - 1;
  t.ok(lo < full && full < hi && hi - lo > 0.01, `[${lo}, ${hi}] around ${full}`);
});

t.test('the stitched hindsight series per window and the explore share', async (t) => {
  const a = [rq(0, 10), rq(5000, 40)];
  const b = [rq(0, 20), rq(5000, 20), rq(6000, 22)];
  const statics = [{ policy: 'static:a', requests: a }, { policy: 'static:b', requests: b }];
  const h = hindsightBest(statics, 5);
  const windows = windowsOf([...statics, { policy: 'adaptive', requests: [rq(12_000, 1)] }], 5);
  t.same(windows, [0, 1, 2]);
  t.same(hindsightSeries(statics, h, windows), { sum: [10, 42, 0], n: [1, 2, 0] });
  // a fractional window: 3 x 0.3 s is 0.8999... s, so a window index worked back from t0_s lands one short
  const f = [{ policy: 'static:a', requests: [rq(900, 10)] }, { policy: 'static:b', requests: [rq(900, 20)] }];
  const hf = hindsightBest(f, 0.3);
  t.same(hindsightSeries(f, hf, windowsOf(f, 0.3)), { sum: [10], n: [1] }, 'a fractional --hindsight-window stitches the chosen static of each window');
  t.equal(exploreShare([rq(0, 1, 'a', { explore: true }), rq(1, 1), rq(2, 1), rq(3, 1)]), 0.25);
  t.equal(exploreShare([]), 0);
});

const applied = (steps: [number, string][]) => steps.map(([ms, condition], step) => ({ step, condition, scheduled_ms: ms, applied_ms: ms + 2 }));
const cond = (net: number, ecpu = 0, ccpu = 0) => `net=${net};delay=0;jitter=0;loss=0;ecpu=${ecpu};emem=0;ccpu=${ccpu};cmem=0`;
const asRun = (policy: string, requests: TimedRequest[], steps: ReturnType<typeof applied>): PolicyRun => {
  const h = newLatencyHistogram();
  for (const r of requests) h.recordValue(Math.round(r.total_ms * 1000));
  return { policy, trace: 'tr', histograms: { total: h }, requests: requests.map((r) => ({ ...r, condition: 'x', oracle_cut: r.cut, rate_mbit: 10, est_mbit: null })), applied: steps };
};

t.test('stress steps: each change of an end\'s CPU or memory, with each non-static policy\'s first move after it (explored arms do not count)', async (t) => {
  const steps = applied([[0, cond(10)], [10_000, cond(20)], [30_000, cond(20, 100)], [40_000, cond(5, 100)], [50_000, cond(5, 100, 50)]]);
  t.same(stressChanges(cond(20), cond(20, 100)), [['ecpu', '0', '100']]);
  t.same(stressChanges(cond(10), cond(20)), [], 'the rate is not stress');
  const runs = [
    asRun('adaptive', [rq(0, 10), rq(20_000, 10, 'b', { switched: true }), rq(31_000, 10, 'a', { switched: true, explore: true }), rq(31_100, 10, 'b', { switched: true }), rq(33_400, 10, 'c', { switched: true }), rq(34_000, 10, 'b', { switched: true })], steps),
    asRun('model', [rq(0, 10), rq(60_000, 10, 'b', { switched: true })], steps),
    asRun('static:a', [rq(0, 10), rq(31_000, 10, 'a', { switched: true })], steps),
  ];
  const s = stressSteps(runs);
  t.same(s, [
    { t_s: 30, from: cond(20), to: cond(20, 100), reactions: { adaptive: { after_s: 3.4, to: 'c' }, model: null } },
    { t_s: 50, from: cond(5, 100), to: cond(5, 100, 50), reactions: { adaptive: null, model: { after_s: 10, to: 'b' } } },
  ]);
  t.same(stressSteps(runs.map((r) => ({ ...r, applied: applied([[0, cond(10)], [1000, cond(3)], [2000, cond(7)]]) }))), [], 'a bandwidth-only trace: no steps');
  // exploring right after the step and coming back is not following it
  const explorer = asRun('adaptive', [rq(0, 10), rq(30_500, 10, 'b', { switched: true, explore: true }), rq(30_600, 10, 'a', { switched: true })], steps);
  t.same(stressSteps([explorer])[0]!.reactions, { adaptive: null });
});

t.test('summary: regret against hindsight with intervals, warnings when the statics are not every arm or windows hold few requests', async (t) => {
  const steps = applied([[0, cond(10)]]);
  const cost = (ms: number) => (ms < 30_000 ? 10 : 40);
  const runs = [
    asRun('static:a', stream(0, 60_000, 'a', cost), steps),
    asRun('static:b', stream(0, 60_000, 'b', () => 20), steps),
    asRun('adaptive', stream(0, 60_000, (ms) => (ms < 33_400 ? 'a' : 'b'), (ms) => (ms < 30_000 ? 10 : ms < 33_400 ? 40 : 20), { explore: (i) => i % 50 === 0 }), steps),
  ];
  const [e] = summarizeAdaptive('net', runs, [], { windowS: 5, arms: 3 });
  t.equal(e!.hindsight_window_s, 5);
  t.equal(e!.hindsight_statics, 2);
  t.equal(e!.hindsight_choices.length, 12);
  const ad = e!.policies.find((p) => p.policy === 'adaptive')!;
  t.ok(ad.regret_vs_hindsight! > 0 && ad.regret_vs_hindsight! < 0.2, `adaptive regret ${ad.regret_vs_hindsight}`);
  const [lo, hi] = ad.regret_vs_hindsight_ci!;
  t.ok(lo <= ad.regret_vs_hindsight! + 0.005 && ad.regret_vs_hindsight! - 0.005 <= hi, `regret ${ad.regret_vs_hindsight} in [${lo}, ${hi}]`);
  t.ok(ad.gain_over_best_static! > 0 && ad.gain_over_best_static_ci![0] > 0, `adaptive beats static:a: ${ad.gain_over_best_static} [${ad.gain_over_best_static_ci}]`);
  t.ok(Math.abs(ad.explore_share - 0.02) < 0.002, `explore share ${ad.explore_share}`);
  t.equal(e!.policies.find((p) => p.policy === 'static:a')!.explore_share, 0);
  t.ok(e!.policies.filter((p) => p.policy.startsWith('static:')).every((p) => p.regret_vs_hindsight! > 0), 'every static is slower than hindsight');
  t.match(e!.hindsight_warnings, [/over the run's 2 static policies, not over all 3 arms/]);
  t.same(e!.steps, []);
  // the same runs, 1 s windows: about 100 and 50 requests per static a window, no warning about few requests
  t.notOk(summarizeAdaptive('net', runs, [], { windowS: 1, arms: 2 })[0]!.hindsight_warnings.length);
  // a request every 2 s: 2.5 requests per static in a 5 s window
  const sparse = ['static:a', 'static:b'].map((p) => asRun(p, Array.from({ length: 30 }, (_, i) => rq(i * 2000, 10)), steps));
  t.match(summarizeAdaptive('net', sparse, [], { windowS: 5, arms: 2 })[0]!.hindsight_warnings, [/median window holds 2\.5 requests per static policy \(fewer than 5\)/]);
  t.notOk(summarizeAdaptive('net', sparse, [], { windowS: 20, arms: 2 })[0]!.hindsight_warnings.length);
  t.match(summarizeAdaptive('net', runs, [], { windowS: 5 })[0]!.hindsight_warnings, [/how many arms the run could choose is unknown/]);
  const noStatic = summarizeAdaptive('net', [runs[2]!])[0]!;
  t.equal(noStatic.hindsight_ms, null);
  t.equal(noStatic.policies[0]!.regret_vs_hindsight, null);
  t.same(noStatic.hindsight_warnings, []);
});

/** A results file as dnn-edge writes an adaptive run: per policy its trace steps, its request lines, then its 4 histograms. */
function resultsText(policies: { policy: string; requests: TimedRequest[] }[], steps: ReturnType<typeof applied>): string {
  const lines = ['#[BaseTime: 1000.000 (seconds since epoch)]'];
  for (const { policy, requests } of policies) {
    lines.push(...steps.map((s) => `${APPLIED_PREFIX}${JSON.stringify(s)}`));
    const h = newLatencyHistogram();
    for (const r of requests) {
      h.recordValue(Math.round(r.total_ms * 1000));
      lines.push(`${REQUEST_PREFIX}${JSON.stringify({ policy, ...r, condition: cond(10), rate_mbit: 10, est_mbit: null, oracle_cut: r.cut, edge_ms: 0, transfer_ms: 0, cloud_ms: 0, encode_ms: 0, decode_ms: 0, bytes: 0 })}`);
    }
    lines.push(policyText(1_000_000, policy, 'stress.txt', { edge: h, transfer: h, cloud: h, total: h }, 1_000_000, 1_060_000).trimEnd());
  }
  return `${lines.join('\n')}\n`;
}

t.test('the report path: a results file with request lines -> JSON, text and HTML carry the hindsight, the regrets and the stress steps', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'hindsight-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const steps = applied([[0, cond(10)], [30_000, cond(10, 100)]]);
  const cost = (ms: number) => (ms < 30_000 ? 10 : 40);
  const file = join(dir, 'net.hdr');
  writeFileSync(
    file,
    resultsText(
      [
        { policy: 'adaptive', requests: stream(0, 60_000, (ms) => (ms < 33_400 ? 'a' : 'b'), (ms) => (ms < 30_000 ? 10 : ms < 33_400 ? 40 : 20), { explore: (i) => i % 50 === 0 }) },
        { policy: 'model', requests: stream(0, 60_000, 'a', cost) },
        { policy: 'static:a', requests: stream(0, 60_000, 'a', cost) },
        { policy: 'static:b', requests: stream(0, 60_000, 'b', () => 20) },
      ],
      steps,
    ),
  );
  const loaded = loadResultFiles([file]);
  const report = buildReport(loaded.networks, { metric: 'p50', minGain: 0.05, hindsightWindowS: 5 }, loaded.problems);
  const json = JSON.parse(formatJson(report)) as { adaptive: Record<string, unknown>[] };
  const e = json.adaptive[0]! as { hindsight_ms: number; hindsight_window_s: number; hindsight_statics: number; hindsight_choices: unknown[]; steps: { t_s: number; reactions: Record<string, unknown> }[]; policies: Record<string, unknown>[] };
  t.ok(e.hindsight_ms > 0);
  t.equal(e.hindsight_window_s, 5);
  t.equal(e.hindsight_statics, 2);
  t.same(e.hindsight_choices[6], { t0_s: 30, policy: 'static:b' });
  t.match(e.policies.find((p) => p['policy'] === 'adaptive'), { regret_vs_hindsight: Number, regret_vs_hindsight_ci: [Number, Number], gain_over_best_static_ci: [Number, Number], explore_share: Number });
  t.ok(Math.abs((e.policies.find((p) => p['policy'] === 'adaptive')!['explore_share'] as number) - 0.02) < 0.002);
  t.match(e.steps, [{ t_s: 30, reactions: { adaptive: { after_s: Number, to: 'b' }, model: null } }]);
  t.notOk('timelines' in e, 'the JSON keeps the summaries only');
  const text = formatTable(report);
  t.match(text, /regret vs hindsight \[95% CI\]/);
  t.match(text, /\n {2}hindsight \(best static per 5 s\) +\d+/);
  t.match(text, /adaptive +\d+ .*\+\d+\.\d% \[[-+]\d+\.\d%, [-+]\d+\.\d%\] +2\.0%/, 'explore share in the adaptive row');
  t.match(text, /step at 30\.0 s \(ecpu 0 -> 100\): adaptive moved to b after 3\.\d s; model did not move/);
  t.match(text, /WARNING: the hindsight best is over the run's 2 static policies/);
  const html = formatHtml(report, {});
  t.match(html, /stroke="#7f7f7f" style="stroke-width:7;opacity:0.35"/, 'the hindsight choice in the timeline');
  t.match(html, /step at 30\.0 s/);
  // the same file with 10 s windows: the flag reaches the analysis
  t.equal(buildReport(loaded.networks, { metric: 'p50', minGain: 0.05, hindsightWindowS: 10 }).adaptive[0]!.hindsight_choices.length, 6);
});
