// test-process: shared (pure: no backend, environment, signal handlers or children; see test/run-shared.ts)
import t from 'tap';
import { join } from 'node:path';
import { NO_CONDITION } from '../../src/conditions/condition.js';
import { buildReport } from '../../src/analysis/build-report.js';
import { formatTable } from '../../src/report/format/table.js';
import { loadResultFiles } from '../../src/analysis/load-results.js';
import { testbedDifferences, testbedId, testbedOf } from '../../src/analysis/testbed.js';
import { ResultsWriter } from '../../src/results/log-writer.js';
import type { RunMetadata } from '../../src/results/metadata.js';
import { cellHistograms, sampleMeta } from '../helpers/results.js';
import { split } from '../helpers/synthetic.js';

const opts = { metric: 'p50' as const, minGain: 0.05 };

async function write(file: string, meta: RunMetadata, totals: Record<string, number>): Promise<string> {
  const w = await ResultsWriter.create(file, meta);
  for (const net of [50, 10]) {
    for (const [cut, ms] of Object.entries(totals)) await w.appendCell({ ...NO_CONDITION, net }, cut, cellHistograms(split(net === 10 && cut === 'a' ? ms * 3 : ms)), Date.now(), Date.now() + 1);
  }
  await w.close();
  return file;
}

t.test('testbed identity: ends, backend, limits and fingerprint count; the cloud address does not', async (t) => {
  const meta = sampleMeta('synth', ['a', 'b']);
  const id = testbedId(testbedOf(meta));
  t.match(id, /^[0-9a-f]{8}$/);
  t.equal(testbedId(testbedOf({ ...meta, cloud: { ...meta.cloud, host: 'cloud (198.18.0.2:7000)' } })), testbedId(testbedOf({ ...meta, cloud: { ...meta.cloud, host: 'cloud (198.18.0.2:7001)' } })));
  const rpi = { ...meta, edge: { ...meta.edge, host: 'rpi4', backend: 'cpu', cpu: 'Cortex-A72', cores: 4 } };
  t.not(testbedId(testbedOf(rpi)), id);
  t.same(testbedDifferences(testbedOf(meta), testbedOf(rpi)), ['edge host edge vs rpi4', 'edge cpu test vs Cortex-A72', 'edge cores 2 vs 4', 'edge backend cpu vs cpu'].filter((d) => !d.endsWith('cpu vs cpu')));
  const limited = { ...meta, edge: { ...meta.edge, limits: { cpu_quota: 0.2 } } } as RunMetadata;
  t.not(testbedId(testbedOf(limited)), id, 'a limited edge is another testbed');
  t.not(testbedId(testbedOf({ ...meta, fingerprint: 'other' })), id);
});

t.test('two testbeds: two entries and the cross-testbed table; one testbed: merged as before', async (t) => {
  const dir = t.testdir();
  const meta = sampleMeta('synth', ['a', 'b']);
  const vm = await write(join(dir, 'vm.hdr'), meta, { a: 5, b: 8 });
  // another cloud port, and threads recorded (files written before they were recorded join their testbed)
  const vm2 = await write(join(dir, 'vm2.hdr'), { ...meta, edge: { ...meta.edge, threads: 1 }, cloud: { ...meta.cloud, host: 'cloud (198.18.0.2:7001)' } }, { a: 5, b: 8 });
  const rpi = await write(join(dir, 'rpi.hdr'), { ...meta, edge: { ...meta.edge, host: 'rpi4', cpu: 'Cortex-A72', cores: 4 } }, { a: 9, b: 8 });

  const same = loadResultFiles([vm, vm2]);
  t.equal(same.networks.length, 1, 'one testbed: merged');
  t.equal(same.networks[0]!.conditions[0]!.cells.get('a')!.total!.samples, 40);

  const loaded = loadResultFiles([vm, rpi, vm2]);
  t.equal(loaded.networks.length, 2);
  t.match(loaded.problems.join('\n'), /synth was measured on 2 testbeds \(edge host edge vs rpi4, edge cpu test vs Cortex-A72, edge cores 2 vs 4, edge threads 1 vs null\): reported side by side, never merged/);
  const r = buildReport(loaded.networks, opts);
  t.same(r.networks.map((n) => [n.network, n.testbed?.edge.host, n.sources.length]), [['synth', 'edge', 2], ['synth', 'rpi4', 1]]);
  const [a, b] = r.networks.map((n) => n.testbed_id);
  t.same(
    r.cross_testbed.map((row) => [row.condition.split(';')[0], row.best[a!]!.cut, row.best[b!]!.cut, row.same_best]),
    [['net=50', 'a', 'b', false], ['net=10', 'b', 'b', true]],
  );
  t.match(formatTable(r), /== cross-testbed[^\n]*\nsynth: [0-9a-f]{8} = edge edge \(test, 2 cores, cpu, 1 thread\)[^\n]*\n\s+condition\s+[0-9a-f]{8}\s+[0-9a-f]{8}\s+same\n\s+net=50\s+a \([\d.]+\)\s+b \([\d.]+\)\s+no/);
});
