import t from 'tap';
import { join } from 'node:path';
import { loadResultFiles } from '../../src/analysis/load-results.js';
import { buildReport } from '../../src/analysis/build-report.js';
import { writeCodecRun } from '../helpers/synthetic.js';

t.test('smoke', async (t) => {
  const dir = t.testdir();
  const f = join(dir, 'codec.hdr');
  await writeCodecRun(f, [null, 10, 2]);
  const loaded = loadResultFiles([f]);
  console.log(loaded.problems, loaded.networks[0]!.cuts);
  const r = buildReport(loaded.networks, { metric: 'p50', minGain: 0.05 });
  console.log(JSON.stringify(r.networks[0]!.conditions.map((c) => [c.key, c.best, c.best_f32, c.repartition]), null, 1));
  console.log(JSON.stringify(r.networks[0]!.encoding_changes), JSON.stringify(r.networks[0]!.fidelity_budget), r.warnings);
});
import { formatTable } from '../../src/report/format/table.js';
t.test('smoke table', async (t) => {
  const dir = t.testdir();
  const f = join(dir, 'codec.hdr');
  await writeCodecRun(f, [null, 10, 2]);
  const r = buildReport(loadResultFiles([f]).networks, { metric: 'p50', minGain: 0.05 });
  console.log(formatTable(r));
});
