// test-process: shared (pure: no backend, environment, signal handlers or children; see test/run-shared.ts)
import t from 'tap';
import { join } from 'node:path';
import { NO_CONDITION } from '../../src/conditions/condition.js';
import { buildReport } from '../../src/analysis/build-report.js';
import { formatTable } from '../../src/report/format/table.js';
import { loadResultFiles } from '../../src/analysis/load-results.js';
import { ResultsWriter } from '../../src/results/log-writer.js';
import { cellHistograms, sampleMeta } from '../helpers/results.js';
import { split } from '../helpers/synthetic.js';

const opts = { metric: 'p50' as const, minGain: 0.05 };

t.test('references: kept apart from their cell, drift per stretch, a warning when it exceeds the claimed gain', async (t) => {
  const file = join(t.testdir(), 'run.hdr');
  const w = await ResultsWriter.create(file, sampleMeta('synth', ['a', 'b']));
  const base = { ...NO_CONDITION };
  const slow = { ...NO_CONDITION, net: 10 };
  let now = Date.now();
  const cell = async (c: typeof base, cut: string, ms: number, ref?: number) => {
    await w.appendCell(c, cut, cellHistograms(split(ms)), now, now + 1000, ref);
    now += 2000;
  };
  await cell(base, 'a', 10);
  await cell(base, 'b', 14);
  await cell(base, 'a', 10, 0);
  await cell(slow, 'a', 13); // a 30 % move to b at net=10 ...
  await cell(slow, 'b', 10);
  await cell(base, 'a', 14, 1); // ... while the reference itself drifted 40 %
  await w.close();

  const loaded = loadResultFiles([file]);
  const data = loaded.networks[0]!;
  t.equal(data.references!.length, 2);
  t.equal(data.conditions.find((c) => c.condition.net === null)!.cells.get('a')!.total!.samples, 20, 'the references are not merged into the cell');
  const r = buildReport(loaded.networks, opts);
  const n = r.networks[0]!;
  t.equal(n.summary.repartition, 1);
  t.match(n.drift, { reference: { cut: 'a' }, points: [{ ref: 0, change: 0 }, { ref: 1 }] });
  t.ok(Math.abs(n.drift!.max_change - 0.4) < 0.01);
  t.equal(n.drift!.stretches.length, 1);
  t.match(n.drift!.stretches[0], { from_ref: 0, to_ref: 1, exceeds: true });
  t.same(n.drift!.stretches[0]!.conditions.map((k) => k.split(';')[0]), ['net=10']);
  t.ok(n.drift!.stretches[0]!.low! > 0.2, 'the drift itself is significant');
  t.match(n.drift_warnings[0], /reference point a moved \+40\.\d% between reference 0 .* and 1 .*while net=10 was measured; more than the \+30\.\d% gain claimed there/);
  t.ok(r.warnings.some((x) => x.startsWith('synth: drift:')));
  t.match(formatTable(r), /drift: the reference cell \(a at the baseline\) measured 2 times; largest change \+40\.\d%/);
});
