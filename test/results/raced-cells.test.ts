// Raced cells in results files (dnn-edge --race): the `#dnn-raced` line just before the cell's histograms
// (one write) is read back onto its cell; a torn or off-schema one is skipped with a warning; a resume
// counts a raced cell as done (the sweep must not measure it again) and cuts a torn one whole, line included.
import t from 'tap';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HistogramLogReader } from 'hdr-histogram-js';
import { NO_CONDITION, type Condition } from '../../src/conditions/condition.js';
import { classifyLine, parseResultsText, readResultsFile } from '../../src/results/log-reader.js';
import { ResultsWriter, racedCellText } from '../../src/results/log-writer.js';
import { type RacedLine, racedLineText } from '../../src/results/raced-lines.js';
import { cellKey } from '../../src/results/tags.js';
import { cellHistograms, sampleMeta } from '../helpers/results.js';

const meta = sampleMeta('lenet', ['conv1', 'pool1', 'dense1']);
const cond: Condition = { ...NO_CONDITION, net: 10 };
const ms = (total: number) => ({ edge: total * 0.3, transfer: total * 0.2, cloud: total * 0.5, total });

function racedLine(cut: string, samples: number): RacedLine {
  return { cell: cellKey(cond, cut), samples, best: 'conv1', rule: 'significance', slower: 2.4, low: 1.8, high: 3.1, reason: `significantly slower than conv1 after ${samples} samples` };
}

/** conv1 survives (10 samples), pool1 is raced out after 3, dense1 after 1 (prior). */
async function writeRun(path: string): Promise<void> {
  const w = await ResultsWriter.create(path, meta);
  const t0 = Date.now();
  await w.appendRacedCell({ ...racedLine('dense1', 1), rule: 'prior', predicted: 5.2 }, cond, 'dense1', cellHistograms(ms(50), 1), t0, t0 + 10);
  await w.appendRacedCell(racedLine('pool1', 3), cond, 'pool1', cellHistograms(ms(30), 3), t0 + 10, t0 + 20);
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
  t.throws(() => racedCellText(0, racedLine('pool1', 3), cond, 'conv1', cellHistograms(ms(1), 1), 0, 1), /internal/, 'a line is never written with another cell');
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
