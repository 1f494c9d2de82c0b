// test-lane: full (edge and cloud processes end to end: too slow for `npm run test:unit`)
import t from 'tap';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runBin } from '../helpers/cli.js';
import { startCloud, stopCloud } from '../helpers/cloud-process.js';
import { checkFiles } from '../../src/report/input/check-files.js';
import { loadResultFiles } from '../../src/analysis/load-results.js';
import { buildReport } from '../../src/analysis/build-report.js';
import { readResultsFile } from '../../src/results/log-reader.js';
import { ResultsWriter } from '../../src/results/log-writer.js';
import { METRICS, type AnyMetric, type Metric } from '../../src/results/tags.js';
import type { Histogram } from 'hdr-histogram-js';

/**
 * Shards for real: 3 dnn-edge runs against one real dnn-cloud on loopback, one after another,
 * the shard index from JOB_COMPLETION_INDEX as a Kubernetes Indexed Job sets it (and once from
 * --shard). No root: the network is not shaped and nothing is stressed (one condition, 12 points:
 * stressors on a loaded machine are the slow and flaky part, and tested elsewhere).
 * About 30-60 s on an idle 2-core machine.
 */
const GRID = ['--no-shape', '--edge-cpu', '0', '--edge-mem', '0', '--cloud-cpu', '0', '--cloud-mem', '0', '--reps', '2', '--warmup', '0', '--backend', 'cpu'];

t.test('3 shards run one after another merge into every cell exactly once, the same analysis as one file', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'dnn-shard-runs-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const cloud = await startCloud('lenet', ['--backend', 'cpu']);
  t.teardown(() => stopCloud(cloud));
  const edge = (extra: string[], env: Record<string, string> = {}) =>
    runBin('dnn-edge', ['127.0.0.1', 'lenet', '--port', String(cloud.port), '--out', dir, ...GRID, ...extra], { env, timeout: 300_000 });

  for (const index of [0, 1]) {
    const r = await edge(['--shards', '3'], { JOB_COMPLETION_INDEX: String(index) });
    t.equal(r.exitCode, 0, `JOB_COMPLETION_INDEX=${index}: ${String(r.stderr).split('\n').slice(-3).join(' | ')}`);
    t.match(String(r.stderr), new RegExp(`shard ${index + 1}/3 of plan [0-9a-f]{16}`), `index ${index} runs shard ${index + 1}/3`);
  }
  const last = await edge(['--shard', '3/3']);
  t.equal(last.exitCode, 0, String(last.stderr));
  const files = readdirSync(dir).filter((f) => f.endsWith('.hdr')).map((f) => path.join(dir, f)).sort();
  t.equal(files.length, 3);
  t.ok(files.every((f) => /-s[123]-of-3-/.test(f)), 'file names carry the shard');

  const check = checkFiles(files);
  t.equal(check.plans.length, 1, 'one plan');
  const plan = check.plans[0]!;
  t.equal(plan.cells, 12, '1 condition x 12 points');
  t.equal(plan.present, 12, 'every cell present');
  t.equal(plan.duplicated.length, 0, 'none twice');
  t.ok(check.complete);
  const cli = await runBin('dnn-report', ['--check', ...files]);
  t.equal(cli.exitCode, 0);

  // The same cells written as one file (as one long run would have) give the same analysis.
  const one = path.join(dir, 'one', 'lenet-whole.hdr');
  const first = readResultsFile(files[0]!);
  const { shard: _shard, ...meta } = first.meta!;
  const w = await ResultsWriter.create(one, meta);
  for (const f of files) {
    const cells = new Map<string, { tag: (typeof first.cells)[number]['tag']; h: Partial<Record<AnyMetric, Histogram>>; start: number; end: number }>();
    for (const c of readResultsFile(f).cells) {
      const key = `${JSON.stringify(c.tag.condition)}|${c.tag.cut}`;
      const e = cells.get(key) ?? { tag: c.tag, h: {}, start: c.startMs, end: c.endMs };
      e.h[c.tag.metric] = c.histogram;
      cells.set(key, e);
    }
    for (const c of cells.values()) {
      t.same(Object.keys(c.h).sort(), [...METRICS].sort(), 'cells are whole', { diagnostic: false });
      await w.appendCell(c.tag.condition, c.tag.cut, c.h as Record<Metric, Histogram>, c.start, c.end);
    }
  }
  await w.close();
  const opts = { metric: 'p50' as const, minGain: 0.05 };
  const merged = buildReport(loadResultFiles(files).networks, opts).networks[0]!;
  const whole = buildReport(loadResultFiles([one]).networks, opts).networks[0]!;
  t.same(merged.conditions.map((c) => [c.key, c.best.cut]), whole.conditions.map((c) => [c.key, c.best.cut]), 'the same best point per condition');
  t.same(merged.conditions, whole.conditions, 'and the same numbers');
});
