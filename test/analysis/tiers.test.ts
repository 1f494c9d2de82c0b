// test-process: shared
// Three-tier reports (issue 23): a synthetic three-tier results file written with the project's own
// ResultsWriter, whose numbers are chosen so the answer is known: per condition the best (x, y), its
// tie set, whether three tiers beat two, the additive (Scission-style) prediction and its errors,
// --predict at link rates never measured, the text/HTML/CSV/JSON forms and --check. In process, no lab.
import t from 'tap';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NO_CONDITION, conditionKey, type Condition } from '../../src/conditions/condition.js';
import { buildReport } from '../../src/analysis/build-report.js';
import { loadResultFiles } from '../../src/analysis/load-results.js';
import { frameWireBytes, wireMs } from '../../src/analysis/cost-model.js';
import { medianInterval } from '../../src/analysis/tier-report.js';
import { distributionFrom } from '../../src/analysis/significance.js';
import { inferFrameBytes } from '../../src/protocol/frame-size.js';
import { ResultsWriter } from '../../src/results/log-writer.js';
import { newLatencyHistogram, type CellHistograms } from '../../src/results/log-lines.js';
import { planHash } from '../../src/results/plan.js';
import { checkFiles } from '../../src/report/input/check-files.js';
import { formatChecks } from '../../src/report/format/checks.js';
import { formatTable } from '../../src/report/format/table.js';
import { formatHtml } from '../../src/report/format/html.js';
import { formatCsv } from '../../src/report/format/csv.js';
import { formatJson } from '../../src/report/format/json.js';
import { parsePredictSpec } from '../../src/analysis/cost-model.js';
import { sampleMeta } from '../helpers/results.js';

// The network: 5 points, input and output included; each segment's compute on each tier (ms).
const POINTS = ['input', 'a', 'b', 'c', 'out'];
const ELEMS = [100000, 10000, 5000, 250, 10];
const DEVICE = [5, 40, 40, 100];
const EDGE = [1, 8, 8, 20];
const CLOUD = [0.5, 4, 4, 2];
const DEV_FIXED = 1;
const EDGE_FIXED = 0.5;
const wire = (i: number) => frameWireBytes(inferFrameBytes([1, ELEMS[i]!]));
const sum = (xs: number[], from: number, to: number) => xs.slice(from, to).reduce((a, b) => a + b, 0);

/** The truth: every part of (x, y) by index under a condition (ms). */
function parts(x: number, y: number, c: Condition) {
  const last = POINTS.length - 1;
  return {
    device: sum(DEVICE, 0, x),
    device_transfer: x === last ? 0 : DEV_FIXED + wireMs(wire(x), c.dnet ?? null),
    edge: sum(EDGE, x, y),
    transfer: y === last ? 0 : EDGE_FIXED + wireMs(wire(y), c.net),
    cloud: sum(CLOUD, y, last),
  };
}
const truth = (x: number, y: number, c: Condition) => Object.values(parts(x, y, c)).reduce((a, b) => a + b, 0);

const SLOW = { ...NO_CONDITION, net: 2, dnet: 50 }; // a slow edge->cloud link: three tiers win
const FAST = { ...NO_CONDITION, net: 1000, dnet: 1000 }; // fast links: the cloud (nearly) alone wins
/** Measured totals away from the additive truth (a three-tier effect the model does not see). */
const DEVIATION: Record<string, number> = { [`${conditionKey(SLOW)} b|c`]: 0.05, [`${conditionKey(FAST)} b|c`]: 0.05, [`${conditionKey(FAST)} a|b`]: 0.2 };
const N = 21;

function constant(ms: number) {
  const h = newLatencyHistogram();
  h.recordValueWithCount(Math.round(ms * 1000), N);
  return h;
}
/** ±10 % around `ms`, symmetric: its median is `ms` (up to the histogram's 3 digits). */
function spread(ms: number) {
  const h = newLatencyHistogram();
  for (let i = 0; i < N; i++) h.recordValue(Math.round(ms * 1000 * (0.9 + (0.2 * i) / (N - 1))));
  return h;
}

const meta = () => {
  const m = sampleMeta('tri', POINTS);
  m.cuts = POINTS.map((layer, i) => ({ index: i - 1, layer, shape: [ELEMS[i]!], bytes: ELEMS[i]! * 4 }));
  return m;
};
const CONFIGS = POINTS.flatMap((x, i) => POINTS.slice(i).map((y, k) => ({ x: i, y: i + k, label: `${x}|${y}` })));
/** left out of the SLOW condition: an unmeasured configuration (grey in the heat map) */
const SKIPPED = `${conditionKey(SLOW)} b|b`;

async function writeRun(path: string, plan = false): Promise<void> {
  const m = meta();
  const conditions = [conditionKey(SLOW), conditionKey(FAST)];
  if (plan) {
    const body = { network: 'tri', fingerprint: 'test', conditions, cuts: POINTS, reps: N, warmup: 1, tiers: { count: 3 as const, configs: CONFIGS.map((c) => c.label) } };
    m.plan = { ...body, hash: planHash(body) };
  }
  m.tiers = { count: 3, configs: CONFIGS.length, device_slowdown: 10, edge_slowdown: 2 };
  const w = await ResultsWriter.create(path, m);
  for (const c of [SLOW, FAST]) {
    for (const cfg of CONFIGS) {
      const key = `${conditionKey(c)} ${cfg.label}`;
      if (key === SKIPPED) continue;
      const p = parts(cfg.x, cfg.y, c);
      let total = truth(cfg.x, cfg.y, c) * (1 + (DEVIATION[key] ?? 0));
      // a near-tie with the FAST condition's best (input|a, 14.85 ms): cloud-only measured 1 % slower
      if (c === FAST && cfg.label === 'input|input') total = truth(0, 1, c) * 1.01;
      const h: CellHistograms = { device: constant(p.device), device_transfer: constant(p.device_transfer), edge: constant(p.edge), transfer: constant(p.transfer), cloud: constant(p.cloud), total: spread(total) };
      await w.appendTierCell(c, POINTS[cfg.x]!, POINTS[cfg.y]!, h, 0, 1);
    }
  }
  await w.close();
}

const opts = { metric: 'p50' as const, minGain: 0.05 };
// one file for every test (and one with a plan for --check), written once
const DIR = t.testdir();
const RUN = join(DIR, 'tri.hdr');
const PLANNED = join(DIR, 'planned.hdr');
t.before(async () => {
  await writeRun(RUN);
  await writeRun(PLANNED, true);
});

t.test('three-tier cells load as configurations x|y, in their own entry', async (t) => {
  const path = RUN;
  const { networks, problems } = loadResultFiles([path]);
  t.same(problems, []);
  t.equal(networks.length, 1);
  const n = networks[0]!;
  t.same(n.tiers?.points.map((p) => p.cut), POINTS);
  t.equal(n.cuts.length, 15, 'every x <= y pair measured in some condition');
  t.same(n.cuts.slice(0, 3).map((c) => c.cut), ['input|input', 'input|a', 'input|b'], '(x, y) index order');
  const kinds = Object.fromEntries(n.cuts.map((c) => [c.cut, c.tier!.kind]));
  t.match(kinds, { 'input|input': 'one', 'input|out': 'one', 'out|out': 'one', 'a|a': 'two', 'input|b': 'two', 'a|out': 'two', 'a|b': 'three', 'a|c': 'three', 'b|c': 'three' });
  t.equal(n.cuts.filter((c) => c.tier!.kind === 'three').length, 3);
});

t.test('the answer: best (x, y), tie set, three vs two tiers, same significance as single cuts', async (t) => {
  const path = RUN;
  const report = buildReport(loadResultFiles([path]).networks, opts);
  const n = report.networks[0]!;
  t.same(n.tiers, { count: 3, points: POINTS, configs: 15, three_tier_configs: 3 });
  t.same(report.cross_testbed, [], 'not compared across testbeds');
  const slow = n.conditions.find((c) => c.key === conditionKey(SLOW))!;
  const fast = n.conditions.find((c) => c.key === conditionKey(FAST))!;
  t.equal(slow.cuts.length, 14, 'the skipped configuration is not a row');

  // SLOW: a|c (device 5, edge 16, cloud 2; 30.2 ms) against the best two-tier a|out (47.7 ms)
  t.match(slow.best, { cut: 'a', cut2: 'c' });
  t.ok(Math.abs(slow.best.total_ms - truth(1, 3, SLOW)) / truth(1, 3, SLOW) < 0.002, 'the best total is its median');
  const st = slow.tiers!;
  t.match(st.best, { cut: 'a', cut2: 'c', uses: 'device+edge+cloud', samples: N });
  t.ok(st.best.low_ms! < st.best.total_ms && st.best.high_ms! > st.best.total_ms, 'the interval of the median holds it');
  t.match(st.best_two_tier, { cut: 'a', cut2: 'out', uses: 'device+edge' });
  t.equal(st.three_tier_wins, true);
  t.ok(Math.abs(st.gain! - (truth(1, 4, SLOW) / truth(1, 3, SLOW) - 1)) < 0.005, `gain ${st.gain}`);
  t.equal(st.significance, 'significant');
  t.ok(st.gain_low! > 0);
  t.same(slow.tie_set, ['a|c'], 'nothing else within reach of 21 samples at +-10 %');

  // FAST: input|a (14.85 ms) best; input|input measured 1 % slower ties; the best three-tier a|b is far behind
  t.match(fast.best, { cut: 'input', cut2: 'a' });
  t.ok(fast.tie_set!.includes('input|a') && fast.tie_set!.includes('input|input'), `tie set ${fast.tie_set}`);
  t.notOk(fast.tie_set!.includes('a|c'));
  const ft = fast.tiers!;
  t.equal(ft.three_tier_wins, false);
  t.equal(ft.significance, 'significant', 'two tiers beat three significantly');
  t.ok(ft.gain! < 0 && ft.gain_high! < 0, 'the gain of two over three is negative, its interval too');

  // the row of a configuration: x in cut, y in cut2, the device's metrics beside the others
  const row = slow.cuts.find((p) => p.cut === 'a' && p.cut2 === 'c')!;
  const want = parts(1, 3, SLOW);
  t.ok(Math.abs(row.device_ms! - want.device) < 0.01 && Math.abs(row.device_transfer_ms! - want.device_transfer) < 0.01 && Math.abs(row.edge_ms! - want.edge) < 0.01);
  t.equal(row.uses, 'device+edge+cloud');
  // deployed: the best at the baseline (the FAST condition is the mildest: faster links), moves at SLOW
  t.match(n.deployed, { cut: 'input', cut2: 'a', reason: 'best-at-baseline' });
  t.equal(slow.repartition, true);
  t.equal(n.summary.repartition, 1, 'the two conditions differ in two factors: a move, no sensitivity pair');
});

t.test('the additive prediction: calibrated on configurations with a tier unused, errors known', async (t) => {
  const path = RUN;
  const n = buildReport(loadResultFiles([path]).networks, opts).networks[0]!;
  const a = n.additive_check!;
  t.equal(a.configs, 6, '3 three-tier configurations x 2 conditions');
  t.equal(a.calibration_configs, 11 + 12, 'the others (one skipped)');
  // errors: 0 where the total is the truth; 0.05 / 1.05 and 0.2 / 1.2 where it deviates
  const expected = [0, 0, 0, 0.05 / 1.05, 0.05 / 1.05, 0.2 / 1.2];
  const got = a.predictions.map((p) => p.error).sort((x, y) => x - y);
  for (let i = 0; i < expected.length; i++) t.ok(Math.abs(got[i]! - expected[i]!) < 0.003, `error ${i}: ${got[i]} vs ${expected[i]}`);
  t.ok(Math.abs(a.median_error! - (0.05 / 1.05) / 2) < 0.003, `median ${a.median_error}`);
  t.ok(Math.abs(a.max_error! - 0.2 / 1.2) < 0.003);
  t.match(a.worst, { condition: conditionKey(FAST), cut: 'a', cut2: 'b' });
  const ac = a.predictions.find((p) => p.condition === conditionKey(SLOW) && p.cut === 'a' && p.cut2 === 'c')!;
  const want = parts(1, 3, SLOW);
  t.ok(Math.abs(ac.parts.device_ms - want.device) < 0.01, 'D(a) from (a, a) and (a, out)');
  t.ok(Math.abs(ac.parts.edge_ms - want.edge) < 0.02, 'E(a..c) = Eprefix(c) - Eprefix(a)');
  t.ok(Math.abs(ac.parts.device_link_ms - want.device_transfer) < 0.02, 'the device link: fixed + wire / dnet');
  t.ok(Math.abs(ac.parts.edge_link_ms - want.transfer) < 0.05 * want.transfer + 0.3, `the edge link at net: ${ac.parts.edge_link_ms} vs ${want.transfer}`);
  t.ok(Math.abs(ac.parts.cloud_ms - want.cloud) < 0.01);
  t.same(a.conditions.map((c) => c.configs), [3, 3]);
});

t.test('--predict: link rates never measured, from the measured parts', async (t) => {
  const path = RUN;
  const at = { ...NO_CONDITION, net: 5, dnet: 20 };
  const n = buildReport(loadResultFiles([path]).networks, { ...opts, predict: parsePredictSpec('dnet=20;net=5') }).networks[0]!;
  t.equal(n.predicted_from, 2);
  t.equal(n.additive_check, undefined);
  t.equal(n.conditions.length, 1);
  const c = n.conditions[0]!;
  t.equal(c.predicted, true);
  t.equal(c.key, conditionKey(at));
  // every configuration's predicted total is the truth at those rates (its parts are measured exactly)
  for (const p of c.cuts) {
    const want = truth(POINTS.indexOf(p.cut), POINTS.indexOf(p.cut2!), at);
    t.ok(Math.abs(p.total_ms - want) / want < 0.005, `${p.cut}|${p.cut2}: ${p.total_ms} vs ${want}`);
  }
  const best = CONFIGS.reduce((b, x) => (truth(x.x, x.y, at) < truth(b.x, b.y, at) ? x : b));
  t.equal(`${c.best.cut}|${c.best.cut2}`, best.label, 'the predicted best is the true best');
  t.equal(c.tiers!.significance, 'unknown', 'no spread in a prediction');
  t.throws(() => buildReport(loadResultFiles([path]).networks, { ...opts, predict: parsePredictSpec('net=5;delay=20') }), /delay is not in the three-tier model/);
});

t.test('text, HTML, CSV and JSON of a three-tier run', async (t) => {
  const path = RUN;
  const report = buildReport(loadResultFiles([path]).networks, opts);
  const text = formatTable(report);
  t.match(text, /== tri \[three tiers\]/);
  t.match(text, /additive prediction \(Scission.*median error 2\.[34] %, max 16\.[67] % over 6/);
  t.match(text, /best a\|c \(device\+edge\+cloud\) 30\.\d+ \[\d+\.\d+, \d+\.\d+\] ms; three tiers beat two: \+5\d\.\d% \[/);
  t.match(text, /two tiers beat three/);
  t.match(text, /x \\ y/, 'the matrix of totals');
  t.match(text, /deployed point: input\|a/);
  const html = formatHtml(report);
  t.match(html, /data-tiers="3"/);
  t.equal((html.match(/class="cell unmeasured"/g) ?? []).length, 1, 'the one unmeasured configuration is grey');
  t.equal((html.match(/<circle class="best"/g) ?? []).length, 2, 'one best per condition');
  t.match(html, /data-chart="tri-\w+-tiers-heatmap-0"/);
  const csv = formatCsv(report).split('\n');
  t.match(csv[0], /,cut2,device_ms,device_transfer_ms$/);
  t.equal(csv.filter((l) => /,a,\d+,.*,c,\d/.test(l)).length, 2, 'a|c in both conditions: cut a, cut2 c');
  const json = JSON.parse(formatJson(report));
  const cell = json.networks[0].conditions[0].cuts[0];
  t.ok('cut2' in cell && 'device_ms' in cell && 'device_transfer_ms' in cell);
  t.match(json.networks[0].additive_check, { configs: 6 });
  t.ok(json.networks[0].additive_check.median_error < 0.03);
});

t.test('--check: a three-tier cell is whole with its 6 metrics', async (t) => {
  const path = PLANNED;
  const r = checkFiles([path]);
  t.equal(r.plans.length, 1);
  const p = r.plans[0]!;
  t.equal(p.cells, 30);
  t.equal(p.present, 29);
  t.same(p.missing.map((m) => m.key), [`${conditionKey(SLOW)};cut=b;cut2=b`]);
  t.equal(p.outside, 0);
  t.equal(r.complete, false);
  t.match(formatChecks(r), /2 conditions x 15 configurations \(x\|y\) = 30 cells[^]*present 29, missing 1, duplicated 0: INCOMPLETE/);
});

t.test('the interval of a median: order statistics', async (t) => {
  // n = 21 at 95 %: the 6th and 16th smallest (P(B <= 5) = 0.0133 <= 0.025 < P(B <= 6) = 0.0392)
  const d = distributionFrom(Array.from({ length: 21 }, (_, i) => i + 1));
  t.same(medianInterval(d, 0.95), { low: 6, high: 16 });
  t.equal(medianInterval(distributionFrom([1, 2, 3, 4, 5]), 0.95), null, '5 samples cannot bound a median at 95 %');
});

t.test('a real three-tier run (the lab, lenet, 5 points, dnet 20 and 2 Mbit/s, net 5): loads and reports', async (t) => {
  const path = fileURLToPath(new URL('../../../docs/data/runs/tiers/lenet-20261204T231326Z.hdr', import.meta.url));
  const report = buildReport(loadResultFiles([path]).networks, opts);
  t.equal(report.networks.length, 1);
  const n = report.networks[0]!;
  t.match(n.tiers, { count: 3, configs: 15, three_tier_configs: 3 });
  t.equal(n.conditions.length, 2);
  for (const c of n.conditions) {
    t.equal(c.cuts.length, 15);
    t.ok(c.cuts.every((p) => p.device_ms !== null && p.device_transfer_ms !== null), 'the 6 metrics of every cell');
    t.match(c.tiers, { three_tier_wins: false, significance: 'significant' }, 'the device alone: lenet is too small to split on this machine');
  }
  t.match(n.additive_check, { configs: 6, calibration_configs: 24 });
  t.ok(n.additive_check!.median_error! > 0 && n.additive_check!.median_error! < 0.1, `median error ${n.additive_check!.median_error}`);
  t.equal(checkFiles([path]).complete, true);
});
