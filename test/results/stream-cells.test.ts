// test-process: shared (pure: no backend, environment, signal handlers or children; see test/run-shared.ts)
// Scenario cells in results files: `;scenario=` tags, the queueing metrics, the `#dnn-stream` line before
// and `#dnn-frame` lines after the histograms (one write), read back as ResultsFile.streams/frames; a
// resume keeps a scenario cell only whole; and a single run's file is byte for byte what it was.
import t from 'tap';
import { readFileSync, appendFileSync, truncateSync, statSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HistogramLogReader } from 'hdr-histogram-js';
import { NO_CONDITION } from '../../src/conditions/condition.js';
import { cellText, headerText, newLatencyHistogram, type CellHistograms } from '../../src/results/log-lines.js';
import { readMetaLine, readResultsFile } from '../../src/results/log-reader.js';
import { ResultsWriter, type StreamCellText } from '../../src/results/log-writer.js';
import { planHash } from '../../src/results/plan.js';
import { cellKey, parseTag } from '../../src/results/tags.js';
import { FIXTURES } from '../helpers/cli.js';
import { cellHistograms, sampleMeta } from '../helpers/results.js';

const dir = await mkdtemp(join(tmpdir(), 'stream-cells-'));
const meta = { ...sampleMeta('lenet', ['conv1', 'pool1']), scenario: 'stream:15', in_flight: 4 };
const cond = { ...NO_CONDITION, net: 50 };

function streamHistograms(total: number): CellHistograms {
  const h = cellHistograms({ edge: total * 0.3, transfer: total * 0.2, cloud: total * 0.4, total }, 8);
  const v = (x: number) => {
    const g = newLatencyHistogram();
    for (let i = 0; i < 8; i++) g.recordValue(x);
    return g;
  };
  return { ...h, queue_edge: v(300), queue_cloud: v(120) };
}

function streamCell(cut: string, offered = 10, dropped = 2): StreamCellText {
  const now = Date.now();
  const frames = Array.from({ length: offered }, (_, i) =>
    i < dropped ? { i, t: [i * 66.667], drop: true } : { i, t: [i * 66.667, i * 66.667 + 0.3, i * 66.667 + 4, i * 66.667 + 4.1, i * 66.667 + 9], q: 0.12, d: 0, c: 3.2, drop: false },
  );
  return {
    condition: cond,
    cut,
    scenario: 'stream:15',
    histograms: streamHistograms(9000),
    startMs: now,
    endMs: now + 700,
    stream: { scenario: 'stream:15', edge: 0, offered, completed: offered - dropped, dropped, refused: 0, elapsed_ms: 700, fps: 11.4, in_flight: 4, cloud_stress: { cpu: 0, mem: 0 } },
    frames,
  };
}

t.test('a single run writes exactly what it wrote before scenarios (golden from the release before)', async (t) => {
  // regenerated here with the same histograms, times and metadata as the golden file was written with
  const golden = readFileSync(join(FIXTURES, 'results/single-cells.golden.txt'), 'utf8');
  const m = readMetaLine(join(FIXTURES, 'results/lenet-grid-v0.1.0.hdr'))!;
  const base = 1764159000123;
  const hist = (k: number) => {
    const h = newLatencyHistogram();
    for (let i = 1; i <= 20; i++) h.recordValue(i * 137 * k);
    return h;
  };
  const four = () => ({ edge: hist(1), transfer: hist(2), cloud: hist(3), total: hist(4) });
  const c = { net: 10, delay: 0, jitter: 0, loss: 0, ecpu: 50, emem: 0, ccpu: 0, cmem: 0, dnet: null };
  const text =
    headerText(m, base) +
    cellText(base, c, 'conv2d_1', four(), base + 1000, base + 2500) +
    cellText(base, c, 'conv2d_1', four(), base + 3000, base + 4500, 0) +
    cellText(base, c, 'dense_1', { ...four(), encode: hist(5), decode: hist(6), bytes: hist(7) }, base + 5000, base + 6500, undefined, 'int8');
  t.equal(text, golden, 'byte for byte');
  t.equal(planHash({ network: 'lenet', fingerprint: 'f', conditions: ['a'], cuts: ['x'], reps: 5, warmup: 1 }), '6611f8707c7fe29f', 'a single plan hashes as before');
  t.not(planHash({ network: 'lenet', fingerprint: 'f', conditions: ['a'], cuts: ['x'], reps: 5, warmup: 1, scenario: 'max' }), '6611f8707c7fe29f', 'a scenario plan is another plan');
});

t.test('a scenario cell round trips: tags, 6 metrics, its stream line and one frame line per frame offered', async (t) => {
  const file = join(dir, 'round.hdr');
  const w = await ResultsWriter.create(file, meta);
  await w.appendStreamCell(streamCell('conv1'));
  await w.appendStreamCell({ ...streamCell('pool1', 5, 0), edge: 1, stream: { ...streamCell('pool1', 5, 0).stream, edge: 1 } });
  await w.close();
  const text = readFileSync(file, 'utf8').split('\n');
  const key = cellKey(cond, 'conv1', undefined, undefined, 'stream:15');
  t.match(key, /;cut=conv1;scenario=stream:15$/);
  const at = text.findIndex((l) => l.startsWith('#dnn-stream '));
  t.same(
    text.slice(at, at + 8).map((l) => (l.startsWith('Tag=') ? parseTag(l.slice(4, l.indexOf(','))).metric : l.slice(0, l.indexOf(' ')))),
    ['#dnn-stream', 'edge', 'transfer', 'cloud', 'total', 'queue_edge', 'queue_cloud', '#dnn-frame'],
    'stream line, the histograms, then the frames',
  );
  const f = readResultsFile(file);
  t.same(f.warnings, []);
  t.equal(f.meta?.scenario, 'stream:15');
  t.equal(f.meta?.in_flight, 4);
  t.same(f.streams.map((s) => [s.cell, s.offered, s.dropped, s.edge]), [
    [key, 10, 2, 0],
    [cellKey(cond, 'pool1', undefined, undefined, 'stream:15', 1), 5, 0, 1],
  ]);
  t.equal(f.frames.length, 15);
  t.same(f.frames[0], { cell: key, i: 0, t: [0], drop: true });
  t.equal(f.frames[2]!.t.length, 5);
  t.equal(f.cells.length, 12);
  t.same([...new Set(f.cells.map((c) => `${c.tag.scenario}/${c.tag.edge ?? '-'}`))], ['stream:15/-', 'stream:15/1']);
  // HdrHistogram's own reader skips the new lines as comments
  const reader = new HistogramLogReader(readFileSync(file, 'utf8'));
  let n = 0;
  while (reader.nextIntervalHistogram()) n++;
  t.equal(n, 12);
});

t.test('the reader skips scenario histograms without their #dnn-stream line, and off-schema stream lines', async (t) => {
  const file = join(dir, 'orphan.hdr');
  const w = await ResultsWriter.create(file, meta);
  await w.appendStreamCell(streamCell('conv1'));
  await w.close();
  const lines = readFileSync(file, 'utf8').split('\n');
  const broken = lines.map((l) => (l.startsWith('#dnn-stream ') ? '#dnn-stream {"cell":"x"}' : l)).join('\n');
  const f = (await import('../../src/results/log-reader.js')).parseResultsText(`${broken}\n${lines.find((l) => l.startsWith('Tag='))!.replace('cut=conv1', 'cut=single1').replace(';scenario=stream:15', '')}\n`, 'o.hdr');
  t.equal(f.streams.length, 0);
  t.match(f.warnings.join('\n'), /unreadable #dnn-stream line/);
  t.match(f.warnings.join('\n'), /scenario cell .*cut=conv1;scenario=stream:15 has histograms but no #dnn-stream line/);
  t.equal(f.cells.length, 1, 'only the single cell is read');
});

t.test('resume: a scenario cell is complete only with its stream line, all its histograms and every frame line', async (t) => {
  const file = join(dir, 'torn.hdr');
  const w = await ResultsWriter.create(file, meta);
  await w.appendStreamCell(streamCell('conv1'));
  await w.close();
  const whole = statSync(file).size;
  const key = cellKey(cond, 'conv1', undefined, undefined, 'stream:15');
  const again = await ResultsWriter.resume(file);
  await again.writer.close();
  t.same([...again.done], [key], 'the whole cell is done');
  t.equal(statSync(file).size, whole);

  const lines = readFileSync(file, 'utf8').split('\n');
  const cellStart = readFileSync(file, 'utf8').indexOf('#dnn-stream ');
  for (const [what, cut] of [
    ['in its last frame line', whole - 20],
    ['after its histograms, before its frames', readFileSync(file, 'utf8').indexOf('#dnn-frame ')],
    ['in its histograms', readFileSync(file, 'utf8').indexOf('metric=queue_edge')],
    ['just after its stream line', cellStart + lines.find((l) => l.startsWith('#dnn-stream '))!.length + 1],
  ] as const) {
    const copy = join(dir, `torn-${cut}.hdr`);
    appendFileSync(copy, readFileSync(file).subarray(0, cut));
    const r = await ResultsWriter.resume(copy);
    await r.writer.close();
    t.same([...r.done], [], `torn ${what}: measured again`);
    t.equal(statSync(copy).size, cellStart, `torn ${what}: cut back to where the cell started`);
  }
  // a whole cell, then a torn second one: the first stays
  const two = join(dir, 'two.hdr');
  appendFileSync(two, readFileSync(file));
  const w2 = await ResultsWriter.resume(two);
  await w2.writer.appendStreamCell(streamCell('pool1'));
  await w2.writer.close();
  truncateSync(two, statSync(two).size - 30);
  const r2 = await ResultsWriter.resume(two);
  await r2.writer.close();
  t.same([...r2.done], [key]);
  t.equal(statSync(two).size, whole);
});
