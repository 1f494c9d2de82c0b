// test-process: shared (pure: no backend, environment, signal handlers or children; see test/run-shared.ts)
import t from 'tap';
import { join } from 'node:path';
import { NO_CONDITION, conditionKey } from '../../src/conditions/condition.js';
import { UserError } from '../../src/errors.js';
import { findBaseline } from '../../src/analysis/condition-points.js';
import { analyseNetwork, buildReport } from '../../src/analysis/build-report.js';
import { loadResultFiles } from '../../src/analysis/load-results.js';
import { ResultsWriter } from '../../src/results/log-writer.js';
import { cellHistograms, sampleMeta } from '../helpers/results.js';
import { SYNTHETIC, SYNTHETIC_CUTS, split, syntheticNetwork } from '../helpers/synthetic.js';

const opts = { metric: 'p50' as const, minGain: 0.05 };
const key = (i: number) => conditionKey(SYNTHETIC[i]!.condition);

t.test('known answer: best point, gain, repartition, summary', async (t) => {
  const r = analyseNetwork(syntheticNetwork(), opts)!;
  t.same(r.baseline, { key: key(0), exact: true });
  t.same(r.deployed, { cut: 'b', reason: 'best-at-baseline', condition: key(0) });
  t.same(r.conditions.map((c) => c.key), [key(0), key(2), key(1), key(3)], 'unshaped first, then by factor');
  const byKey = new Map(r.conditions.map((c) => [c.key, c]));
  const c1 = byKey.get(key(1))!;
  t.same(c1.best, { cut: 'c', total_ms: 6 });
  t.equal(c1.deployed_ms, 9);
  t.equal(c1.gain, 0.5);
  t.equal(c1.repartition, true);
  t.equal(byKey.get(key(2))!.repartition, false);
  const c3 = byKey.get(key(3))!;
  t.equal(c3.best.cut, 'c');
  t.ok(Math.abs(c3.gain! - (10 / 9.8 - 1)) < 1e-12);
  t.equal(c3.repartition, false, 'a 2 % gain is below --min-gain 0.05');
  const base = byKey.get(key(0))!;
  t.same(base.cloud_only, { cut: 'a', total_ms: 10 });
  t.same(base.edge_only, { cut: 'c', total_ms: 8 });
  t.equal(base.speedup_vs_cloud_only, 2);
  t.equal(base.speedup_vs_edge_only, 1.6);
  t.same(base.cuts[1], { cut: 'b', index: 1, edge_ms: 1.5, transfer_ms: 1, cloud_ms: 2.5, total_ms: 5, total_p95_ms: 5.5, samples: 10, vs_best: null });
  t.match(r.summary, { conditions: 4, repartition: 1, max_gain: 0.5, max_gain_condition: key(1), max_gain_best_cut: 'c' });
  t.equal(analyseNetwork(syntheticNetwork(), { ...opts, minGain: 0.01 })!.summary.repartition, 2, 'a lower --min-gain counts the 2 % case');
});

t.test('known answer: sensitivity', async (t) => {
  const [net, ecpu] = analyseNetwork(syntheticNetwork(), opts)!.summary.sensitivity;
  t.equal(net!.factor, 'net_mbit');
  t.equal(net!.pairs, 2);
  t.equal(net!.best_moved, 2, 'the slow network moves the best point b -> c in both pairs');
  t.ok(Math.abs(net!.deployed_change_mean! - (9 / 5 - 1 + (10 / 5.2 - 1)) / 2) < 1e-12);
  t.ok(Math.abs(net!.deployed_change_max! - (10 / 5.2 - 1)) < 1e-12);
  t.same(net!.levels.map((l) => [l.value, l.conditions, l.deployed_ms]), [[null, 2, 5.1], [10, 2, 9.5]]);
  t.equal(ecpu!.factor, 'edge_cpu');
  t.equal(ecpu!.best_moved, 0, 'edge CPU stress never moves the best point');
  t.ok(Math.abs(ecpu!.deployed_change_max! - (10 / 9 - 1)) < 1e-12);
});

t.test('--deployed, and a deployed point missing from a condition', async (t) => {
  const r = analyseNetwork(syntheticNetwork(), { ...opts, deployed: 'a' })!;
  t.equal(r.deployed.reason, 'flag');
  t.equal(r.summary.repartition, 4, 'a is never best and always >= 5 % slower');
  t.throws(() => buildReport([syntheticNetwork()], { ...opts, deployed: 'zzz' }), new UserError('--deployed zzz is not a partition point of synth (a, b, c)'));

  const data = syntheticNetwork();
  data.conditions[1]!.cells.delete('b');
  const c = analyseNetwork(data, opts)!.conditions.find((x) => x.key === key(1))!;
  t.same([c.deployed_ms, c.gain, c.repartition], [null, null, false]);
});

t.test('baseline: unshaped counts as fastest; when absent, the mildest condition', async (t) => {
  t.same(findBaseline([{ ...NO_CONDITION, net: 100 }, { ...NO_CONDITION }]), { index: 1, exact: true });
  t.same(findBaseline([{ ...NO_CONDITION, net: 10 }, { ...NO_CONDITION, net: 100 }]), { index: 1, exact: true });
  const none = [
    { ...NO_CONDITION, net: 10, ecpu: 50 },
    { ...NO_CONDITION, net: 25, ecpu: 100 },
    { ...NO_CONDITION, net: 10 },
    { ...NO_CONDITION, net: 25, ecpu: 50, loss: 1 },
  ];
  t.same(findBaseline(none), { index: 2, exact: false }, 'one factor away, at its nearest level');
  const r = analyseNetwork(
    syntheticNetwork(SYNTHETIC.slice(1).map((s) => ({ ...s }))),
    opts,
  )!;
  t.equal(r.baseline.exact, false);
  t.equal(r.baseline.key, key(2), 'net=10 and ecpu=100 are equally mild: the tie goes to the faster network');
});

t.test('end to end from histograms: results files -> merged stats -> same answer', async (t) => {
  const dir = t.testdir();
  const meta = sampleMeta('synth', SYNTHETIC_CUTS);
  // two runs of the same network, the conditions split between them, one cell measured twice
  const files = [join(dir, 'run1.hdr'), join(dir, 'run2.hdr')];
  for (const [f, part] of [
    [files[0]!, SYNTHETIC.slice(0, 3)],
    [files[1]!, SYNTHETIC.slice(2)],
  ] as const) {
    const w = await ResultsWriter.create(f, meta);
    for (const { condition, totals } of part) {
      for (const [i, cut] of SYNTHETIC_CUTS.entries()) await w.appendCell(condition, cut, cellHistograms(split(totals[i]!)), Date.now(), Date.now() + 1);
    }
    await w.close();
  }
  const loaded = loadResultFiles(files);
  t.same(loaded.problems, []);
  t.equal(loaded.networks.length, 1);
  const net = loaded.networks[0]!;
  t.same(net.cuts, [{ cut: 'a', index: 1, bytes: 40 }, { cut: 'b', index: 2, bytes: 40 }, { cut: 'c', index: 3, bytes: 40 }], 'order, index and tensor bytes from meta.cuts');
  const merged = net.conditions.find((c) => conditionKey(c.condition) === key(2))!.cells.get('b')!.total!;
  t.equal(merged.samples, 40, 'the cell measured in both files is merged');
  const r = buildReport(loaded.networks, opts).networks[0]!;
  t.equal(r.deployed.cut, 'b');
  t.same(r.conditions.map((c) => c.best.cut), ['b', 'b', 'c', 'c']);
  t.equal(r.summary.repartition, 1);
  t.equal(r.summary.max_gain_condition, key(1));
  t.ok(Math.abs(r.summary.max_gain! - 0.5) < 0.02, `gain ${r.summary.max_gain} ~ 0.5 (3 significant digits, p50 of the samples)`);
  const moved = r.conditions.find((c) => c.key === key(1))!;
  t.equal(moved.significance, 'significant', '20 samples a point resolve 9 ms vs 6 ms');
  t.ok(moved.gain_low! > 0.3 && moved.gain_high! < 0.7, `interval [${moved.gain_low}, ${moved.gain_high}] around +50 %`);
  t.same(moved.tie_set, ['c']);
  const close = r.conditions.find((c) => c.key === key(3))!;
  t.same([close.significance, close.repartition], ['not significant', false]);
  t.same(close.tie_set, ['b', 'c'], '10 vs 9.8 ms with a 10 % spread: a tie');
  t.ok(r.power && r.power.samples === 20 && r.power.resolves_min_gain === false, 'a 10 % spread needs more than 20 samples for 5 %');
  t.match(r.significance_note, /with 20 samples per point no gain under [0-9.]+ % can be significant/);
  t.equal(r.summary.sensitivity[0]!.moves.filter((m) => m.significance === 'significant').length, 1);
  const netRow = r.summary.sensitivity[0]!;
  t.equal(netRow.deployed_change_significant, 2, 'the slow network slows the deployed point significantly in both pairs');
  t.ok(netRow.effects.every((e) => e.low! > 0.5), 'b: 5 -> 9 ms and 5.2 -> 10 ms');
});

t.test('A/A: two physically identical conditions never need repartitioning, however the noise falls', async (t) => {
  const dir = t.testdir();
  const meta = sampleMeta('synth', SYNTHETIC_CUTS);
  const file = join(dir, 'aa.hdr');
  const w = await ResultsWriter.create(file, meta);
  // a and b are within 1 % of each other; identical distributions in both conditions, drawn apart
  let seed = 1;
  const noise = () => ((seed = (seed * 16807) % 2147483647) / 2147483647 - 0.5) * 0.3;
  for (const condition of [{ ...NO_CONDITION, net: 1000 }, { ...NO_CONDITION, net: 999 }]) {
    for (const [cut, ms] of [['a', 10], ['b', 10.1], ['c', 30]] as const) {
      const hs = cellHistograms(split(ms), 1);
      for (const h of Object.values(hs)) h.reset();
      for (let i = 0; i < 10; i++) for (const [m, h] of Object.entries(hs)) h.recordValue(Math.round(split(ms)[m as 'total'] * 1000 * (1 + noise())));
      await w.appendCell(condition, cut, hs, Date.now(), Date.now() + 1);
    }
  }
  await w.close();
  const r = buildReport(loadResultFiles([file]).networks, opts).networks[0]!;
  t.equal(r.summary.repartition, 0);
  t.same(r.conditions.map((c) => c.tie_set), [['a', 'b'], ['a', 'b']], 'a and b tie in both');
  t.equal(r.summary.sensitivity[0]!.best_moved, 0, 'no significant move in the sensitivity row either');
});
