// test-process: shared (pure: no backend, environment, signal handlers or children; see test/run-shared.ts)
// Raced cells (dnn-edge --race), from the file to the report, in process on synthetic results text built with
// the project's own writer functions. The file: the `#dnn-raced` line just before the cell's histograms (one
// write) is read back onto its cell; a torn or off-schema one is skipped with a warning; a resume counts a raced
// cell as done (the sweep must not measure it again) and cuts a torn one whole, line included. The report:
// raced-out cells carry the samples their histograms hold (never --reps); the tie set, the move, power, the cost
// model and --check use what was measured.
import t from 'tap';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HistogramLogReader } from 'hdr-histogram-js';
import { NO_CONDITION, conditionKey, type Condition } from '../../src/conditions/condition.js';
import { cellText, headerText, type CellHistograms } from '../../src/results/log-lines.js';
import { classifyLine, parseResultsText, readResultsFile } from '../../src/results/log-reader.js';
import { ResultsWriter } from '../../src/results/log-writer.js';
import { planHash } from '../../src/results/plan.js';
import { type RacedLine, racedLineText } from '../../src/results/raced-lines.js';
import { cellKey } from '../../src/results/tags.js';
import { loadResultFiles } from '../../src/analysis/load-results.js';
import { buildReport } from '../../src/analysis/build-report.js';
import { fitCostModel } from '../../src/analysis/cost-model.js';
import { median, weightedMedian } from '../../src/analysis/stats.js';
import { checkFiles } from '../../src/report/input/check-files.js';
import { formatChecks } from '../../src/report/format/checks.js';
import { formatTable } from '../../src/report/format/table.js';
import { formatJson } from '../../src/report/format/json.js';
import { formatHtml } from '../../src/report/format/html.js';
import { formatCsv } from '../../src/report/format/csv.js';
import { cellHistograms, sampleMeta } from '../helpers/results.js';

const meta = sampleMeta('lenet', ['conv1', 'pool1', 'dense1']);
const cond: Condition = { ...NO_CONDITION, net: 10 };
const ms = (total: number) => ({ edge: total * 0.3, transfer: total * 0.2, cloud: total * 0.5, total });

function racedLine(cut: string, samples: number): RacedLine {
  return { cell: cellKey(cond, cut), samples, best: 'conv1', rule: 'significance', slower: 2.4, low: 1.8, high: 3.1, reason: `significantly slower than conv1 after ${samples} samples` };
}

/** conv1 survives (10 samples), pool1 is raced out after 3, dense1 after 1 (prior). */
/** A raced cell's text as the writer makes it: its `#dnn-raced` line, then its histograms. */
function racedCellText(base: number, line: RacedLine, c: Condition, cut: string, h: CellHistograms, start: number, end: number): string {
  return racedLineText(line) + cellText(base, c, cut, h, start, end);
}

/** The line as ResultsWriter.appendCell takes it (it makes `cell` from the cell it writes). */
const lineFields = ({ cell: _cell, ...rest }: RacedLine): Omit<RacedLine, 'cell'> => rest;

async function writeRun(path: string): Promise<void> {
  const w = await ResultsWriter.create(path, meta);
  const t0 = Date.now();
  await w.appendCell(cond, 'dense1', cellHistograms(ms(50), 1), t0, t0 + 10, undefined, undefined, undefined, lineFields({ ...racedLine('dense1', 1), rule: 'prior', predicted: 5.2 }));
  await w.appendCell(cond, 'pool1', cellHistograms(ms(30), 3), t0 + 10, t0 + 20, undefined, undefined, undefined, lineFields(racedLine('pool1', 3)));
  await w.appendCell(cond, 'conv1', cellHistograms(ms(10), 10), t0 + 20, t0 + 30);
  await w.close();
}

t.test('a raced cell round trips: its line first, then its histograms with the samples it has', async (t) => {
  const path = join(t.testdir(), 'run.hdr');
  await writeRun(path);
  const text = readFileSync(path, 'utf8');
  const lines = text.split('\n');
  const at = lines.findIndex((l) => l.startsWith('#dnn-raced ') && l.includes('pool1'));
  t.equal(classifyLine(lines[at]!), 'raced');
  t.match(lines[at + 1], /^Tag=net=10;.*;cut=pool1;metric=edge,/, 'the histograms follow the line');
  const file = readResultsFile(path);
  t.same(file.warnings, []);
  t.same(file.raced.map((r) => [r.cell, r.samples, r.rule]), [
    [cellKey(cond, 'dense1'), 1, 'prior'],
    [cellKey(cond, 'pool1'), 3, 'significance'],
  ]);
  const total = (cut: string) => file.cells.find((c) => c.tag.cut === cut && c.tag.metric === 'total')!;
  t.equal(total('pool1').histogram.totalCount, 3);
  t.equal(total('pool1').raced?.samples, 3);
  t.equal(total('dense1').raced?.predicted, 5.2);
  t.equal(total('conv1').raced, undefined, 'a surviving point has no line');
  t.equal(file.cells.filter((c) => c.raced).length, 8, 'every metric of a raced cell carries it');
  const lib = new HistogramLogReader(text);
  let n = 0;
  while (lib.nextIntervalHistogram()) n++;
  t.equal(n, 12, "HdrHistogram's own reader skips the line as a comment");
});

t.test('a torn, off-schema or orphaned #dnn-raced line is skipped with a warning; the histograms stay', async (t) => {
  const cells = racedCellText(0, racedLine('pool1', 3), cond, 'pool1', cellHistograms(ms(30), 3), 0, 10);
  const torn = cells.replace(/"reason":.*\n/, '"reas\n');
  const off = cells.replace('"samples":3', '"samples":0');
  const orphan = `${racedLineText(racedLine('dense1', 2))}${cells.split('\n').slice(1).join('\n')}`;
  for (const [what, text, warning] of [
    ['torn', torn, /:1: unreadable #dnn-raced line .*line skipped/],
    ['off-schema', off, /:1: unreadable #dnn-raced line .*samples/],
    ['another cell', orphan, /:1: #dnn-raced line of cell .*dense1 is not followed by that cell's histograms; line skipped/],
  ] as const) {
    const file = parseResultsText(text, what);
    t.equal(file.warnings.length, 1, what);
    t.match(file.warnings[0], warning, what);
    t.equal(file.cells.length, 4, `${what}: the cell's histograms are read`);
    t.ok(file.cells.every((c) => c.raced === undefined) && file.raced.length === 0, `${what}: no raced line attached`);
  }
});

t.test('resume: a raced cell is done; a torn raced cell is cut with its line; a line without its cell is damage', async (t) => {
  const dir = t.testdir();
  const path = join(dir, 'run.hdr');
  await writeRun(path);
  const intact = readFileSync(path, 'utf8');
  // a 4th cell, raced, killed mid-write: its line and one histogram line
  const torn = racedCellText(0, { ...racedLine('dense1', 2), cell: cellKey(NO_CONDITION, 'dense1') }, NO_CONDITION, 'dense1', cellHistograms(ms(3), 2), 0, 1);
  appendFileSync(path, torn.split('\n').slice(0, 2).join('\n') + '\n');
  const r = await ResultsWriter.resume(path);
  await r.writer.close();
  t.same([...r.done].sort(), [cellKey(cond, 'conv1'), cellKey(cond, 'pool1'), cellKey(cond, 'dense1')].sort(), 'raced cells count as complete');
  t.same([...r.raced.keys()].sort(), [cellKey(cond, 'dense1'), cellKey(cond, 'pool1')].sort());
  t.equal(r.raced.get(cellKey(cond, 'pool1'))?.samples, 3);
  t.equal(r.dropped.lines, 2, 'the torn cell goes with its #dnn-raced line');
  t.equal(readFileSync(path, 'utf8'), intact);

  // only the #dnn-raced line of a last cell got out: dropped too
  appendFileSync(path, racedLineText({ ...racedLine('dense1', 2), cell: cellKey(NO_CONDITION, 'dense1') }));
  const r2 = await ResultsWriter.resume(path);
  await r2.writer.close();
  t.equal(r2.dropped.lines, 1);
  t.equal(readFileSync(path, 'utf8'), intact);

  // a #dnn-raced line followed by another cell cannot come from an interrupted write
  const mid = join(dir, 'mid.hdr');
  const lines = intact.split('\n');
  const at = lines.findIndex((l) => l.startsWith('#dnn-raced ') && l.includes('pool1'));
  lines.splice(at + 1, 4);
  writeFileSync(mid, lines.join('\n'));
  await t.rejects(ResultsWriter.resume(mid), { name: 'UserError', message: new RegExp(`line ${at + 1} is damaged but complete cells follow`) });
});

// The report of a raced run: two conditions x four points, five of the eight cells raced out.
const REPS = 10;
const cuts = ['a', 'b', 'c', 'd'];
const fast: Condition = { ...NO_CONDITION, net: 100 };
const slow: Condition = { ...NO_CONDITION, net: 5 };
const conditions = [fast, slow];
const body = { network: 'toy', fingerprint: 'test', conditions: conditions.map(conditionKey), cuts, reps: REPS, warmup: 1 };
const runMeta = { ...sampleMeta('toy', cuts), reps: REPS, plan: { ...body, hash: planHash(body) } };

/** One cell: `raced` given, it is a raced-out cell of `samples` samples, its #dnn-raced line first. */
interface Cell {
  cond: Condition;
  cut: string;
  total: number;
  samples: number;
  raced?: Pick<RacedLine, 'rule' | 'slower'> & Partial<RacedLine>;
}

// fast: a best, b ties it, c dropped after 6 samples (significance), d after 1 (prior)
// slow: b best, a (the deployed point: best at the baseline) dropped after 6, c after 3, d after 1
const CELLS: Cell[] = [
  { cond: fast, cut: 'a', total: 10, samples: REPS },
  { cond: fast, cut: 'b', total: 10.3, samples: REPS },
  { cond: fast, cut: 'c', total: 30, samples: 6, raced: { rule: 'significance', slower: 2, low: 1.6, high: 2.5 } },
  { cond: fast, cut: 'd', total: 100, samples: 1, raced: { rule: 'prior', slower: 9, predicted: 8.5 } },
  { cond: slow, cut: 'b', total: 20, samples: REPS },
  { cond: slow, cut: 'a', total: 40, samples: 6, raced: { rule: 'significance', slower: 1, low: 0.8, high: 1.2 } },
  { cond: slow, cut: 'c', total: 60, samples: 3, raced: { rule: 'significance', slower: 2, low: 1.5, high: 2.6 } },
  { cond: slow, cut: 'd', total: 150, samples: 1, raced: { rule: 'prior', slower: 6.5, predicted: 7 } },
];
const SAVED = CELLS.reduce((s, c) => s + (c.raced ? REPS - c.samples : 0), 0);

function runText(cells = CELLS): string {
  const base = 1764159000000;
  let text = headerText(runMeta, base);
  cells.forEach((c, i) => {
    const h = cellHistograms(ms(c.total), c.samples);
    const [start, end] = [base + i * 1000, base + i * 1000 + 500];
    if (!c.raced) {
      text += cellText(base, c.cond, c.cut, h, start, end);
      return;
    }
    const line: RacedLine = { cell: cellKey(c.cond, c.cut), samples: c.samples, best: c.cond === fast ? 'a' : 'b', reason: `dropped after ${c.samples} samples`, ...c.raced };
    text += racedCellText(base, line, c.cond, c.cut, h, start, end);
  });
  return text;
}

function reportOf(text: string, dir: string) {
  const file = join(dir, 'toy.hdr');
  writeFileSync(file, text);
  const loaded = loadResultFiles([file]);
  return { file, loaded, report: buildReport(loaded.networks, { metric: 'p50', minGain: 0.05 }, loaded.problems) };
}

t.test('raced cells: their own sample counts, the race summary, and the answer from what was measured', async (t) => {
  const text = runText();
  t.equal(parseResultsText(text, 'toy').raced.length, 5, 'the reader attaches each #dnn-raced line');
  const { report, loaded } = reportOf(text, t.testdir());
  t.same(loaded.problems, []);
  const n = report.networks[0]!;
  const cond = (c: Condition) => n.conditions.find((x) => x.key === conditionKey(c))!;
  const row = (c: Condition, cut: string) => cond(c).cuts.find((p) => p.cut === cut)!;
  for (const c of CELLS) t.equal(row(c.cond, c.cut).samples, c.samples, `${conditionKey(c.cond)} ${c.cut}: samples from its histograms`);
  t.same(row(fast, 'c').raced, { samples: 6, best: 'a', rule: 'significance', slower: 2, low: 1.6, high: 2.5, reason: 'dropped after 6 samples' });
  t.equal(row(fast, 'd').raced?.rule, 'prior');
  t.equal(row(fast, 'd').raced?.predicted, 8.5);
  t.equal(row(fast, 'a').raced, undefined, 'a point that ran all --reps has no raced field');
  t.same(n.race, { cells: 8, raced_cells: 5, inferences_saved: SAVED, inferences_exhaustive: 8 * REPS, raced_in_tie_set: 2 });

  // fast: b ties a; c (6 samples, 3x slower) is out of the tie set; d (1 sample) cannot be told from the best at the report's correction (in both conditions)
  t.equal(cond(fast).best.cut, 'a');
  t.same(cond(fast).tie_set, ['a', 'b', 'd']);
  t.equal(row(fast, 'd').vs_best?.low, null, "one sample: the report's interval is unbounded");
  t.ok(row(fast, 'c').vs_best!.low! > 0, 'six samples against ten: significantly slower');
  // slow: the deployed point was raced out after 6 samples, and the move is significant on those 6
  t.equal(n.deployed.cut, 'a');
  t.equal(cond(slow).best.cut, 'b');
  t.equal(cond(slow).significance, 'significant');
  t.ok(cond(slow).repartition);
  t.ok(cond(slow).gain_low! > 0.5 && cond(slow).gain_high! < 1.5, `gain interval [${cond(slow).gain_low}, ${cond(slow).gain_high}]`);
  // power rests on the points that ran all --reps (not on the median over raced-out cells)
  t.equal(n.power?.samples, REPS);
  // sensitivity: net moved the best point a -> b, judged on the measured samples
  const net = n.summary.sensitivity.find((s) => s.factor === 'net_mbit')!;
  t.equal(net.moves[0]?.significance, 'significant');
  t.equal(net.moves[0]?.from_raced_samples, 6, 'the move says on how many samples of the old best it rests (it left the race there)');
  t.equal(net.effects[0]?.significance, 'significant', 'the deployed point slowed (6 samples at 5 Mbit/s against 10 at 100)');

  const table = formatTable(report);
  t.match(table, `raced: 5 of 8 cells stopped early (${SAVED} inferences saved of an exhaustive 80, ${((100 * SAVED) / 80).toFixed(1)} %); 2 raced-out points are in their condition's tie set`);
  t.match(table, /\n\s+c\s.*\s6\s+\+\S+% \[\S+%, \S+%\] n=6 raced\n/, 'a raced-out point: interval with its sample count');
  t.match(table, /\n\s+d\s.*\s1\s+\+\S+% \[-inf, \+inf\] n=1 raced\s+tie\n/);
  t.match(table, /moved: .* best a -> b, \+\S+% \[\S+%, \S+%\] significant \(a left the race there after 6 samples\)/);
  t.match(table, /\+98\.2% \[\S+%, \S+%\] n=6 raced\s+b,d\s+3\/4\s+\*/, 'the raced-out deployed point: its gain says on how many samples it rests; 3 of 4 points raced there');
  const json = JSON.parse(formatJson(report)) as { networks: { race: unknown; conditions: { cuts: { cut: string; samples: number; raced?: { samples: number; rule: string } }[] }[] }[] };
  t.same(json.networks[0]!.race, n.race);
  t.same(json.networks[0]!.conditions[1]!.cuts.map((p) => [p.cut, p.samples, p.raced?.rule ?? null]), [
    ['a', 6, 'significance'],
    ['b', 10, null],
    ['c', 3, 'significance'],
    ['d', 1, 'prior'],
  ]);
  const html = formatHtml(report);
  t.match(html, /<span class="raced">raced: 5 of 8 cells stopped early/);
  t.match(html, /point d \(raced out after 1 samples: dropped after 1 samples\)/, 'the bar of a raced cell says so');
  t.match(html, /<td class="raced">3\/4<\/td>/);
  const csv = formatCsv(report).split('\n');
  t.match(csv[0], /,raced_rule,raced_samples,raced_reason$/);
  t.match(csv.find((l) => l.includes(',d,') && l.includes('net=5')), /,prior,1,dropped after 1 samples$/);
});

t.test('a run without racing reports as before: no race summary, no raced fields or columns', async (t) => {
  const exhaustive = CELLS.map((c) => ({ cond: c.cond, cut: c.cut, total: c.total, samples: REPS }));
  const { report } = reportOf(runText(exhaustive), t.testdir());
  const n = report.networks[0]!;
  t.equal(n.race, undefined);
  t.notOk(n.conditions.some((c) => c.cuts.some((p) => 'raced' in p)));
  t.notMatch(formatTable(report), /n=\d+ raced|raced: |raced = points/);
  t.notMatch(formatCsv(report), /raced/);
});

t.test('a raced file merged with a run that measured the same cells in full: the samples add up, no cell reads as raced', async (t) => {
  const dir = t.testdir();
  const { file } = reportOf(runText(), dir);
  const full = join(dir, 'full.hdr');
  writeFileSync(full, runText(CELLS.map((c) => ({ cond: c.cond, cut: c.cut, total: c.total, samples: REPS }))));
  const loaded = loadResultFiles([file, full]);
  const n = buildReport(loaded.networks, { metric: 'p50', minGain: 0.05 }).networks[0]!;
  const d = n.conditions.find((c) => c.key === conditionKey(slow))!.cuts.find((p) => p.cut === 'd')!;
  t.equal(d.samples, 1 + REPS);
  t.equal(d.raced, undefined);
  t.same(n.race, { cells: 8, raced_cells: 5, inferences_saved: SAVED, inferences_exhaustive: 80, raced_in_tie_set: 0 }, "the savings are the raced file's");
});

t.test('--check: a raced cell is complete with its line and all its histograms, and counted', async (t) => {
  const dir = t.testdir();
  const { file } = reportOf(runText(), dir);
  const r = checkFiles([file]);
  t.ok(r.complete);
  t.equal(r.plans[0]!.present, 8);
  t.equal(r.plans[0]!.raced, 5);
  t.match(formatChecks(r), /present 8 \(5 raced: stopped early, complete with their #dnn-raced line\), missing 0/);
  // the last raced cell torn after its line and two histograms: missing (partly written), not raced
  const lines = runText().split('\n');
  const torn = join(dir, 'torn.hdr');
  writeFileSync(torn, `${lines.slice(0, lines.length - 3).join('\n')}\n`);
  const r2 = checkFiles([torn]);
  t.notOk(r2.complete);
  t.equal(r2.plans[0]!.raced, 4);
  t.same(r2.plans[0]!.missing, [{ key: cellKey(slow, 'd'), shard: 1, partial: true }]);
});

t.test('the cost model weighs a cell by its samples: a 1-sample cell counts as 1 sample, not as --reps', async (t) => {
  t.equal(weightedMedian([3, 1, 2, 4], [1, 1, 1, 1]), median([3, 1, 2, 4]), 'equal weights: the median');
  t.equal(weightedMedian([5, 1, 2], [2, 2, 2]), 2);
  t.equal(weightedMedian([10, 1, 2], [1, 10, 10]), 2, 'a light outlier does not pull the median');
  t.equal(weightedMedian([10, 1, 2], [10, 1, 1]), 10);
  const { loaded } = reportOf(runText(), t.testdir());
  const model = fitCostModel(loaded.networks[0]!, 'p50');
  if ('reason' in model) throw new Error(model.reason);
  // point d's edge compute: 1 sample in each condition (30 ms and 45 ms); point a's: 10 samples at 3 ms, 6 at 12 ms -> the 10-sample cell wins
  const stress = [...model.stress.values()][0]!;
  t.equal(Math.round(stress.edge.get('a')!), 3, "a's edge time: the median weighted toward the 10-sample cell");
  t.equal(Math.round(stress.edge.get('d')!), 38, "d's edge time: its two 1-sample cells, equally weighted");
});
