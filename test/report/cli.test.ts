// test-lane: full (spawns dnn-report many times: ~8 s)
import t from 'tap';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ResultsWriter } from '../../src/results/log-writer.js';
import { cellHistograms, sampleMeta } from '../helpers/results.js';
import { SYNTHETIC, SYNTHETIC_CUTS, split, writeCodecRun } from '../helpers/synthetic.js';
import { userErrorOf } from '../helpers/user-error.js';
import { parseReportOptions } from '../../src/cli/report-options.js';

// bin/dnn-report only imports this file. It is not spawned itself: under tap, the runner's injected
// require hook makes Node load an extensionless ESM launcher through require() and fail.
const CLI = fileURLToPath(new URL('../../src/cli/report.js', import.meta.url));
const LENET = fileURLToPath(new URL('../../../test/fixtures/legacy/outputs_lenet', import.meta.url));

function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

async function synthFile(path: string): Promise<void> {
  const w = await ResultsWriter.create(path, sampleMeta('synth', SYNTHETIC_CUTS));
  for (const { condition, totals } of SYNTHETIC) {
    for (const [i, cut] of SYNTHETIC_CUTS.entries()) await w.appendCell(condition, cut, cellHistograms(split(totals[i]!)), Date.now(), Date.now() + 1);
  }
  await w.close();
}

t.test('usage mistakes: one line, exit 2', async (t) => {
  // what the arguments alone tell, in process (each spawn costs ~0.6 s of CPU): the UserError that
  // runMain prints as `dnn-report: <message>` with exit 2, as the spawns below show
  const parsing: [string[], RegExp][] = [
    [['--legacy', LENET, '--metric', 'p99'], /--metric.*p99.*(p50|choices)/],
    [['--legacy', LENET, '--min-gain', '-1'], /^--min-gain must be a non-negative fraction/],
    [['--legacy', LENET, '--max-agreement-loss', '101'], /^--max-agreement-loss must be a number of percentage points between 0 and 100 \(1 = one point of top-1 agreement\), got '101'$/],
    [['--legacy', LENET, '--max-agreement-loss', 'one'], /^--max-agreement-loss must be a number of percentage points between 0 and 100 .*got 'one'$/],
    [['--legacy', LENET, '--condition', 'foo'], /^--condition: 'foo' is not key=value/],
  ];
  for (const [args, message] of parsing) {
    const e = await userErrorOf(() => parseReportOptions(args));
    t.equal(e?.exitCode, 2, args.join(' '));
    t.match(e?.message, message);
    t.notMatch(e?.message, /\n/, 'one line');
  }
  // as processes: the ones found after parsing, and one found while parsing
  const cases: [string[], RegExp][] = [
    [[], /^dnn-report: no input: give results files .* or --legacy DIR\n$/],
    [['--legacy', LENET, '--deployed', '42'], /^dnn-report: --deployed 42 is not a partition point of lenet \(1, 2, 3/],
    [['--legacy', LENET, '--format', 'html', '--condition', 'net=11'], /^dnn-report: --condition: no condition matches net=11\n$/],
    [['--legacy', '/nonexistent-dir'], /^dnn-report: --legacy \/nonexistent-dir: no such directory\n$/],
  ];
  const results = await Promise.all(cases.map(([args]) => run(args)));
  for (const [i, [args, message]] of cases.entries()) {
    const r = results[i]!;
    t.equal(r.code, 2, args.join(' '));
    t.match(r.stderr, message);
    t.notMatch(r.stderr, /\n\s+at /, 'no stack trace');
  }
});

t.test('bad files: a message per file; exit 2 only when nothing usable remains', async (t) => {
  const dir = t.testdir({ 'empty.hdr': '', 'notes.txt': 'hello\n' });
  const good = join(dir, 'synth.hdr');
  await synthFile(good);
  const corrupt = join(dir, 'corrupt.hdr');
  const lines = readFileSync(good, 'utf8').split('\n');
  writeFileSync(corrupt, lines.map((l, i) => (i === 6 ? l.slice(0, -30) : l)).join('\n'));

  const none = await run([join(dir, 'empty.hdr'), join(dir, 'notes.txt')]);
  t.equal(none.code, 2);
  t.match(none.stderr, /empty\.hdr is empty/);
  t.match(none.stderr, /notes\.txt is not an HdrHistogram log/);
  t.match(none.stderr, /no usable data/);

  const some = await run([join(dir, 'empty.hdr'), corrupt, '--format', 'json']);
  t.equal(some.code, 0);
  t.match(some.stderr, /empty\.hdr is empty .*file skipped/);
  t.match(some.stderr, /corrupt\.hdr:7: truncated or corrupt histogram/);
  const report = JSON.parse(some.stdout);
  t.equal(report.networks[0].network, 'synth');
  t.equal(report.warnings.length, 2);
});

t.test('formats: json shape, csv rows, table, --out', async (t) => {
  const dir = t.testdir();
  const file = join(dir, 'synth.hdr');
  await synthFile(file);
  const json = await run([file, '--format', 'json', '--metric', 'mean']);
  t.equal(json.code, 0, json.stderr);
  const r = JSON.parse(json.stdout);
  t.equal(r.metric, 'mean');
  const n = r.networks[0];
  t.same(Object.keys(n).sort(), ['baseline', 'conditions', 'cost_model', 'deployed', 'drift', 'drift_warnings', 'network', 'power', 'rate_thresholds', 'significance_note', 'sources', 'summary', 'testbed', 'testbed_id']);
  t.same(n.deployed, { cut: 'b', reason: 'best-at-baseline', condition: 'net=none;delay=0;jitter=0;loss=0;ecpu=0;emem=0;ccpu=0;cmem=0' });
  t.same(Object.keys(n.conditions[0].factors), ['net_mbit', 'delay_ms', 'jitter_ms', 'loss_pct', 'edge_cpu', 'edge_mem', 'cloud_cpu', 'cloud_mem']);
  t.equal(n.conditions[0].factors.net_mbit, null);
  t.match(n.conditions[0], { key: String, best: { cut: 'b', total_ms: Number }, deployed_ms: Number, gain: Number, repartition: false });
  t.same(Object.keys(n.conditions[0].cuts[0]).slice(0, 7), ['cut', 'index', 'edge_ms', 'transfer_ms', 'cloud_ms', 'total_ms', 'total_p95_ms']);
  t.match(n.summary, { conditions: 4, repartition: 1, max_gain: Number, sensitivity: Array });

  const csv = await run([file, '--format', 'csv']);
  const rows = csv.stdout.trim().split('\n');
  t.equal(rows.length, 1 + 4 * 3);
  t.match(rows[0], /^network,condition,net_mbit,delay_ms,.*,cut,index,edge_ms,transfer_ms,cloud_ms,total_ms,total_p95_ms,samples,best,deployed,gain,repartition,gain_low,gain_high,significance,vs_best,vs_best_low,vs_best_high,tie,testbed_id,predicted$/);
  t.match(rows[1], /^synth,net=none;.*,none,0,0,0,0,0,0,0,a,1,/);

  const html = await run(['--legacy', LENET, '--format', 'html', '--condition', 'net=10 ccpu=100 ecpu=0 emem=0 cmem=0']);
  t.match(html.stdout, /chosen condition \(gain [^)]*\): net=10 ecpu=0 emem=0 ccpu=100 cmem=0/, '--condition picks the second bar chart');

  const out = join(dir, 'out', 'report.txt');
  const table = await run([file, '--out', out]);
  t.equal(table.code, 0);
  t.equal(table.stdout, '');
  const text = readFileSync(out, 'utf8');
  t.match(text, /== synth/);
  t.match(text, /repartitioning needed in 1 \(25\.0%\)/);
  t.match(text, /largest gain \+\d+\.\d% \[\+\d+\.\d%, \+\d+\.\d%\] at net=10 ecpu=0 \(best point c, significant\)/);
});

t.test('encoded crossings: --max-agreement-loss chooses among the (point, codec) pairs; the f32 answer beside', async (t) => {
  const file = join(t.testdir(), 'codecnet.hdr');
  await writeCodecRun(file, [null, 10, 2]);
  const loose = await run([file]);
  t.equal(loose.code, 0, loose.stderr);
  t.match(loose.stdout, /left out: .*mid@int8-ch \(lossy, no fidelity recorded: record it with dnn-cut --codecs or the sweep\)/);
  t.match(loose.stdout, /encoding changes the answer in 2 of 3 condition\(s\) \(point moves removed 2, created 0\): net=10: best input@jpeg:90 \(f32: out\), the point's move removed/);
  const tight = await run([file, '--max-agreement-loss', '0.1', '--format', 'json']);
  t.equal(tight.code, 0, tight.stderr);
  const n = (JSON.parse(tight.stdout) as { networks: { fidelity_budget: { max_agreement_loss: number; excluded: { arm: string }[] } }[] }).networks[0]!;
  t.equal(n.fidelity_budget.max_agreement_loss, 0.1);
  t.ok(n.fidelity_budget.excluded.some((e) => e.arm === 'input@jpeg:90'), 'jpeg:90 (0.5 points lost) is outside a 0.1-point budget');
});
