// dnn-report end to end on a single run and a scenario run of one network (results files written with the results helpers).
import t from 'tap';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { writeRuns } from './stream-fixture.js';
import { loadResultFiles } from '../../src/analysis/load-results.js';
import { buildReport } from '../../src/analysis/build-report.js';
import { formatHtml } from '../../src/report/format/html.js';
import { formatJson } from '../../src/report/format/json.js';
import { formatTable } from '../../src/report/format/table.js';

const CLI = fileURLToPath(new URL('../../src/cli/report.js', import.meta.url));

function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

t.test('single + max: JSON fields, the answer in the text, the frames/s chart in the HTML; single alone unchanged', async (t) => {
  const { single, run: max } = await writeRuns(t.testdir(), 'max', { frames: 100 });
  // one run of the command (the table); JSON, HTML and the single run alone through the same functions in-process
  const text = await run([single, max]);
  t.equal(text.code, 0, text.stderr);
  const build = (paths: string[]) => {
    const loaded = loadResultFiles(paths);
    return buildReport(loaded.networks, { metric: 'p50', minGain: 0.05 }, loaded.problems);
  };
  const both = build([single, max]);
  const html = { stdout: formatHtml(both) };
  const alone = { stdout: formatTable(build([single])), html: formatHtml(build([single])) };

  const report = JSON.parse(formatJson(both));
  const m = report.networks.find((n: { scenario?: string }) => n.scenario === 'max');
  const row = m.conditions[0].cuts[0];
  for (const k of ['scenario', 'fps', 'fps_low', 'fps_high', 'fps_tie', 'drop_fraction', 'frames', 'p90_ms', 'p99_ms', 'queue_ms', 'predicted_fps']) t.ok(k in row, `cell field ${k}`);
  t.same(Object.keys(row.queue_ms), ['edge', 'cloud']);
  t.same(Object.keys(m.stream_answers[0]).sort(), ['best_fps', 'best_latency', 'best_p99', 'condition', 'differ', 'differ_p99', 'differ_significant', 'fps_tie_set']);
  t.ok(m.fps_model.arms.length > 0);
  t.ok(report.warnings.some((w: string) => /p99 on fewer than 662 completed frames/.test(w)), 'the LoadGen warning among the report\'s notes');
  t.match(text.stdout, /WARNING pipe \[max\]: of 6 cell\(s\), 6 have p99 on fewer than 662/);

  t.match(text.stdout, /== pipe \[max, 4 in flight\]/);
  t.match(text.stdout, /streams \(fps: frames\/s completed/);
  t.match(text.stdout, /best for frames\/s: c \([\d.]+ \[[\d.]+, [\d.]+\] fps\); best for latency: b \([\d.]+ ms, one request at a time\); they differ/);
  t.match(text.stdout, /pipeline model .* predicted within [\d.]+ % of the measured frames\/s/);
  // the single run's section reads as it does alone
  t.equal(text.stdout.slice(0, text.stdout.indexOf('\n== pipe [max')), alone.stdout);
  t.notMatch(alone.stdout, /^streams \(|frames\/s|fps/m);

  t.match(html.stdout, /data-chart="pipe-[0-9a-f]{8}-max-fps"/);
  t.match(html.stdout, /<circle class="chosen"[^>]*><title>ecpu=0: best c/);
  t.match(html.stdout, /The answer for streams/);
  t.notMatch(alone.html, /class="chosen"|-fps"/);
});

t.test('three edges: a table per edge in the text and the HTML', async (t) => {
  const { single, run } = await writeRuns(t.testdir(), 'max', { edges: 3, frames: 40 });
  const loaded = loadResultFiles([single, run]);
  const report = buildReport(loaded.networks, { metric: 'p50', minGain: 0.05 }, loaded.problems);
  const text = formatTable(report);
  t.match(text, /== pipe \[max, 4 in flight, 3 edges on one cloud\]/);
  for (const e of [0, 1, 2]) t.match(text, new RegExp(`\\nedge ${e}:\\n  condition  point +fps \\[interval\\]`));
  t.equal(formatHtml(report).match(/<summary>edge \d<\/summary>/g)?.length, 3);
});
