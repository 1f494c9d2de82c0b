// test-process: shared (pure: no backend, environment, signal handlers or children; see test/run-shared.ts)
// Scenario runs in the report: kept apart from single runs, their figures, the answer for streams and the pipeline model.
import t from 'tap';
import { join } from 'node:path';
import { readResultsFile } from '../../src/results/log-reader.js';
import { loadResultFiles } from '../../src/analysis/load-results.js';
import { buildReport, type ReportOptions } from '../../src/analysis/build-report.js';
import type { NetworkReport } from '../../src/analysis/findings.js';
import { NO_CONDITION } from '../../src/conditions/condition.js';
import { formatTable } from '../../src/report/format/table.js';
import { ResultsWriter } from '../../src/results/log-writer.js';
import { cellHistograms, sampleMeta } from '../helpers/results.js';
import { STREAM_CUTS, writeRuns, writeScenarioRun, writeSingleRun } from '../report/stream-fixture.js';

const OPTS: ReportOptions = { metric: 'p50', minGain: 0.05 };

function report(paths: string[]) {
  const loaded = loadResultFiles(paths);
  return buildReport(loaded.networks, OPTS, loaded.problems);
}

const scenarioOf = (r: ReturnType<typeof report>, s: string) => r.networks.find((n) => n.scenario === s)!;

t.test('a single run and a scenario run of one network: two entries, never merged', async (t) => {
  const { single, run: max } = await writeRuns(t.testdir(), 'max', { frames: 200 });
  const loaded = loadResultFiles([single, max]);
  t.equal(loaded.networks.length, 2);
  const [s, m] = loaded.networks;
  t.equal(s!.scenario, undefined);
  t.equal(m!.scenario, 'max');
  for (const c of s!.conditions) for (const cut of STREAM_CUTS) t.equal(c.cells.get(cut)!.total!.samples, 30, 'single cells hold only the single samples');
  for (const c of m!.conditions) for (const cut of STREAM_CUTS) t.equal(c.cells.get(cut)!.total!.samples, 200, 'scenario cells hold only their frames');
  t.equal(s!.conditions[0]!.streams, undefined);
  t.equal(m!.conditions[0]!.streams!.get('c')!.edges.length, 1);

  // the single entry reports exactly as it does alone
  const both = report([single, max]);
  const alone = report([single]);
  t.same(both.networks.find((n) => n.scenario === undefined), alone.networks[0], 'the single entry is unchanged by the scenario file beside it');
  t.equal(alone.networks[0]!.stream_answers, undefined);
  t.equal(alone.networks[0]!.conditions[0]!.cuts[0]!.fps, undefined, 'single rows carry no stream field');
  t.same(both.cross_testbed, [], 'a scenario is not another testbed');
});

t.test('scenario cells: fps, drops, percentiles, queueing; the answer for streams against the single run', async (t) => {
  const { single, run: max } = await writeRuns(t.testdir(), 'max', { frames: 200 });
  const lines = readResultsFile(max).streams;
  const r = report([single, max]);
  const m = scenarioOf(r, 'max');
  t.equal(m.in_flight, 4);
  t.equal(m.edge_count, 1);
  t.equal(m.edges, undefined, 'one edge: no per-edge list');
  for (const c of m.conditions) {
    for (const p of c.cuts) {
      const line = lines.find((l) => l.cell === `${c.key};cut=${p.cut};scenario=max`)!;
      t.equal(p.scenario, 'max');
      t.ok(Math.abs(p.fps! - (line.completed * 1000) / line.elapsed_ms) < 1e-9, 'fps = completed * 1000 / elapsed');
      t.ok(p.fps_low! < p.fps! && p.fps! < p.fps_high!, 'an interval around it');
      t.equal(p.drop_fraction, 0);
      t.same(p.frames, { offered: 200, completed: 200, dropped: 0, refused: 0 });
      t.ok(p.total_ms <= p.p90_ms! && p.p90_ms! <= p.p99_ms!, 'p50 <= p90 <= p99');
      t.type(p.queue_ms!.edge, 'number');
      t.type(p.queue_ms!.cloud, 'number');
    }
    // stage times: a 6 ms cloud (167 fps), b 5.5 ms (182 fps), c 3.5 ms everywhere (286 fps)
    t.equal(c.best_fps!.cut, 'c');
    t.same(c.fps_tie_set, ['c']);
    t.equal(c.best_p99, null, 'max: no p99 at a rate');
  }
  t.equal(m.stream_answers!.length, 2);
  for (const a of m.stream_answers!) {
    t.equal(a.best_latency!.cut, 'b', 'one at a time, b has the smallest sum');
    t.equal(a.best_fps.cut, 'c', 'in flight, c has the smallest slowest stage');
    t.equal(a.differ, true);
    t.equal(a.differ_significant, true);
    t.equal(a.differ_p99, null);
  }
  // the pipeline model from the single run's stage times
  const model = m.fps_model!;
  t.equal(model.arms.length, 6);
  t.ok(model.median_error! < 0.05, `predicted frames/s within 5 % (median ${model.median_error})`);
  t.equal(model.best_agreement, 1);
  t.ok(model.arms.every((a) => a.source === 'measured'));
  t.ok(model.arms.filter((a) => a.cut !== 'c').every((a) => a.bottleneck === 'cloud'), 'a and b wait on the cloud (c: every stage alike)');
  t.ok(m.conditions.every((c) => c.cuts.every((p) => typeof p.predicted_fps === 'number')));
  t.same(
    model.by_edges.filter((b) => b.condition === m.conditions[0]!.key).map((b) => b.edges),
    [1, 2, 3, 4],
  );
  // 200 completed frames per cell: p90 is fine (>= 64), p99 is not (< 662)
  t.equal(m.sample_warnings!.length, 1);
  t.match(m.sample_warnings![0]!, /6 have p99 on fewer than 662 completed frames and 0 p90 on fewer than 64/);
  t.ok(r.warnings.includes(m.sample_warnings![0]!), 'the warning is in the report notes too');
});

t.test('a camera above one point\'s capacity: drops near 1 - capacity / rate; the best for p99 keeps up', async (t) => {
  const { single, run: stream } = await writeRuns(t.testdir(), 'stream:200', { frames: 300 });
  const m = scenarioOf(report([single, stream]), 'stream:200');
  for (const c of m.conditions) {
    const row = (cut: string) => c.cuts.find((p) => p.cut === cut)!;
    t.ok(Math.abs(row('a').drop_fraction! - (1 - 1000 / 6 / 200)) < 0.05, `a drops ${row('a').drop_fraction} ~ 1 - 167/200`);
    t.equal(row('c').drop_fraction, 0, 'c keeps up with 200 frames/s');
    t.ok(Math.abs(row('c').fps! - 200) < 10);
    t.same(c.best_p99 && c.best_p99.cut, 'c');
  }
  t.equal(m.stream_answers![0]!.differ_p99, true);
});

t.test('three edges on one cloud: per-edge figures, aggregate sums, the shared cloud\'s queueing', async (t) => {
  const { single, run: max3 } = await writeRuns(t.testdir(), 'max', { edges: 3, frames: 120 });
  const m = scenarioOf(report([single, max3]), 'max');
  t.equal(m.edge_count, 3);
  t.same(m.edges!.map((e) => e.edge), [0, 1, 2]);
  for (const c of m.conditions) {
    for (const p of c.cuts) {
      const mine = m.edges!.map((e) => e.cells.find((x) => x.condition === c.key && x.cut === p.cut)!);
      t.ok(Math.abs(p.fps! - mine.reduce((s, x) => s + x.fps, 0)) < 1e-9, 'aggregate fps = sum over the edges');
      t.equal(p.frames!.completed, 360, 'frames of all edges');
      t.equal(p.samples, 360, 'pooled percentiles over every edge\'s frames');
    }
  }
  const q = m.fps_model!.queue;
  t.ok(q.every((x) => x.edges === 3 && x.model === 'saturated'), 'three edges saturate the cloud at every point');
  for (const x of q) t.ok(Math.abs(x.predicted_queue_cloud_ms - x.measured_queue_cloud_ms!) < 0.15 * x.measured_queue_cloud_ms!, `${x.cut}: queue predicted ${x.predicted_queue_cloud_ms.toFixed(1)} measured ${x.measured_queue_cloud_ms}`);
});

t.test('a scenario run alone: its figures, no latency answer, and a note saying what to add', async (t) => {
  const dir = t.testdir();
  const max = join(dir, 'max.hdr');
  writeScenarioRun(max, 'max', { frames: 60 });
  const r = report([max]);
  const m: NetworkReport = r.networks[0]!;
  t.equal(m.scenario, 'max');
  t.equal(m.fps_model, null);
  t.ok(m.stream_answers!.every((a) => a.best_latency === null && a.differ === null && a.best_fps.cut === 'c'));
  t.ok(r.warnings.some((w) => /no single run of this network among the files/.test(w)));
});

t.test('--predict beside a scenario run: predicted conditions get the pipeline model\'s frames/s; without one, nothing changes', async (t) => {
  const { single, run } = await writeRuns(t.testdir(), 'max', { frames: 60 });
  const predict = { ...OPTS, predict: { net: [10] } };
  const build = (paths: string[]) => {
    const loaded = loadResultFiles(paths);
    return buildReport(loaded.networks, predict, loaded.problems);
  };
  const p = build([single, run]).networks.find((n) => n.scenario === undefined)!;
  t.equal(p.predicted_from, 2);
  for (const c of p.conditions) {
    t.equal(c.predicted, true);
    t.equal(c.best_fps!.cut, 'c', 'the smallest slowest stage');
    t.equal(c.best_fps!.fps_low, null, 'a prediction has no interval');
    t.ok(c.cuts.every((r) => typeof r.predicted_fps === 'number'));
  }
  const alone = build([single]).networks[0]!;
  t.ok(alone.conditions.every((c) => c.best_fps === undefined && c.cuts.every((r) => r.predicted_fps === undefined)));
});

t.test('merging a cell measured by several files or edges: the first histogram grows to hold larger values', async (t) => {
  const dir = t.testdir();
  const paths = [join(dir, 'fast.hdr'), join(dir, 'slow.hdr')];
  for (const [i, path] of paths.entries()) {
    const w = await ResultsWriter.create(path, sampleMeta('grow', ['a']));
    const ms = i === 0 ? 1 : 5000; // the second file's values lie far beyond what the first one's histogram covers
    await w.appendCell({ ...NO_CONDITION }, 'a', cellHistograms({ edge: ms, transfer: ms, cloud: ms, total: ms }, 10), Date.now(), Date.now() + 1);
    await w.close();
  }
  const total = loadResultFiles(paths).networks[0]!.conditions[0]!.cells.get('a')!.total!;
  t.equal(total.samples, 20);
  t.ok(total.p95 > 4000, 'the large values are in');
});

t.test('runs with 1, 2 and 3 edges on one cloud: the best point for frames/s moves toward the edge as the cloud saturates', async (t) => {
  const dir = t.testdir();
  // x leaves the cloud 3 ms a frame (333 frames/s alone, and in all); y 0.5 ms but 4 ms on the edge (250 frames/s per edge)
  const stages = { x: { edge: 1, transfer: 1, cloud: 3 }, y: { edge: 4, transfer: 1, cloud: 0.5 } };
  const paths = [1, 2, 3].map((edges) => join(dir, `max-${edges}.hdr`));
  paths.forEach((path, i) => writeScenarioRun(path, 'max', { edges: i + 1, frames: 150, stages }));
  const loaded = loadResultFiles(paths);
  t.same(loaded.networks.map((n) => n.edgeCount ?? 1), [1, 2, 3], 'one entry per number of edges, never merged');
  const r = buildReport(loaded.networks, OPTS, loaded.problems);
  t.same(r.cross_testbed, [], 'other edge counts are not other testbeds');
  t.equal(r.edge_scaling!.length, 2, 'one row per condition');
  for (const row of r.edge_scaling!) {
    t.same(row.runs.map((x) => [x.edges, x.best]), [[1, 'x'], [2, 'y'], [3, 'y']]);
    t.equal(row.toward_edge, true);
    t.equal(row.significant, true);
    t.ok(row.runs[2]!.fps > 600, 'three edges at y: about 3 x 250 frames/s');
  }
  t.match(formatTable(r), /== edges on one cloud: .*\n  pipe \[max, testbed \w+\] [^\n]*: 1 edge: x \([\d.]+ fps, cloud queue [\d.]+ ms\) \| 2 edges: y .* -> the best point moves toward the edge \(significantly\)/);
});

t.test('a single run of several edges (edge=I tags): its own entry, pooled over the edges, apart from the one-edge run', async (t) => {
  const dir = t.testdir();
  const one = join(dir, 'one.hdr');
  const two = join(dir, 'two.hdr');
  await writeSingleRun(one, 10);
  const w = await ResultsWriter.create(two, { ...sampleMeta('pipe', STREAM_CUTS), edges: 2 });
  for (const edge of [0, 1]) for (const cut of STREAM_CUTS) await w.appendCell({ ...NO_CONDITION }, cut, cellHistograms({ edge: 1, transfer: 1, cloud: 10 * (edge + 1), total: 12 }, 10), Date.now(), Date.now() + 1, undefined, undefined, edge);
  await w.close();
  const loaded = loadResultFiles([one, two]);
  t.same(loaded.networks.map((n) => n.edgeCount ?? 1), [1, 2]);
  t.equal(loaded.networks[1]!.conditions[0]!.cells.get('a')!.total!.samples, 20, 'both edges pooled');
  t.equal(loaded.networks[1]!.conditions[0]!.streams, undefined, 'no stream figures for a single run');
  const r = buildReport(loaded.networks, OPTS, loaded.problems);
  t.same(r.networks.map((n) => n.edge_count ?? 1), [1, 2]);
  t.same(r.cross_testbed, []);
  t.match(formatTable(r), /\n== pipe \[single, 2 edges on one cloud\] /);
});
