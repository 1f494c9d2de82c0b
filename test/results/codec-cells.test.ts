// test-process: shared (pure: no backend, environment, signal handlers or children; see test/run-shared.ts)
// Cells of a run with codecs: `codec=` after the cut (f32 cells without), encode/decode/bytes after the
// latencies, read back as such; a resume counts a cell complete only with all 7 of its metrics; the
// analysis keeps arms apart and bytes out of the latencies.
import t from 'tap';
import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { NO_CONDITION, conditionKey } from '../../src/conditions/condition.js';
import { cellText, newLatencyHistogram } from '../../src/results/log-lines.js';
import { readResultsFile } from '../../src/results/log-reader.js';
import { ResultsWriter } from '../../src/results/log-writer.js';
import { cellKey, formatTag, parseTag } from '../../src/results/tags.js';
import { loadResultFiles } from '../../src/analysis/load-results.js';
import { cellHistograms, sampleMeta } from '../helpers/results.js';

const meta = { ...sampleMeta('lenet', ['conv1', 'pool1']), codecs: { input: ['f32'], inner: ['f32', 'f16'] } };
const ms = (total: number) => ({ edge: total * 0.3, transfer: total * 0.2, cloud: total * 0.5, total });

/** A cell of a run with codecs: its latencies, encode/decode µs and a bytes count. */
function wireCell(total: number, bytes: number) {
  const h = cellHistograms(ms(total));
  const v = (x: number) => {
    const g = newLatencyHistogram();
    for (let i = 0; i < 20; i++) g.recordValue(x);
    return g;
  };
  return { ...h, encode: v(150), decode: v(90), bytes: v(bytes) };
}

t.test('tags: codec= right after the cut, only when not f32', async (t) => {
  const tag = formatTag({ condition: NO_CONDITION, cut: 'conv1', codec: 'jpeg:90', metric: 'bytes' });
  t.match(tag, /;cut=conv1;codec=jpeg:90;metric=bytes$/);
  t.same(parseTag(tag), { condition: NO_CONDITION, cut: 'conv1', codec: 'jpeg:90', metric: 'bytes' });
  t.equal(formatTag({ condition: NO_CONDITION, cut: 'conv1', codec: 'f32', metric: 'edge' }), formatTag({ condition: NO_CONDITION, cut: 'conv1', metric: 'edge' }), 'f32: no codec=');
  t.equal(cellKey(NO_CONDITION, 'conv1', undefined, 'f32'), cellKey(NO_CONDITION, 'conv1'), 'an f32 cell keeps its key');
  t.not(cellKey(NO_CONDITION, 'conv1', undefined, 'f16'), cellKey(NO_CONDITION, 'conv1'), 'an encoded arm is a cell of its own');
  t.same(parseTag('cut=conv1;codec=f32;metric=edge'), parseTag('cut=conv1;metric=edge'), 'codec=f32 (never written) reads as the f32 cell');
  t.throws(() => parseTag('cut=conv1;codec=;metric=edge'), /codec= is empty/);
  t.throws(() => parseTag('cut=conv1;metric=bits'), /metric 'bits' is not one of edge, transfer, cloud, total, encode, decode, bytes/);
});

t.test('write, read, resume: 7 lines a cell; a cell missing its bytes is torn', async (t) => {
  const path = join(t.testdir(), 'run.hdr');
  const w = await ResultsWriter.create(path, meta);
  await w.appendCell(NO_CONDITION, 'conv1', wireCell(10, 65_632), 0, 1);
  await w.appendCell(NO_CONDITION, 'conv1', wireCell(8, 32_864), 0, 1, undefined, 'f16');
  await w.close();
  const file = readResultsFile(path);
  t.same(file.warnings, []);
  t.equal(file.cells.length, 14);
  t.same(file.cells.slice(7).map((c) => `${c.tag.codec}/${c.tag.metric}`), ['f16/edge', 'f16/transfer', 'f16/cloud', 'f16/total', 'f16/encode', 'f16/decode', 'f16/bytes']);
  const bytes = file.cells.find((c) => c.tag.codec === 'f16' && c.tag.metric === 'bytes')!.histogram.getValueAtPercentile(50);
  t.ok(Math.abs(bytes - 32_864) <= 32_864 * 0.001, `bytes, to 3 significant digits (${bytes})`);

  const intact = readFileSync(path, 'utf8');
  const torn = cellText(0, NO_CONDITION, 'pool1', wireCell(5, 4_192), 0, 1, undefined, 'f16');
  appendFileSync(path, torn.split('\n').slice(0, 6).join('\n') + '\n'); // the latencies, encode and decode, not bytes
  const r = await ResultsWriter.resume(path);
  t.same([...r.done].sort(), [cellKey(NO_CONDITION, 'conv1'), cellKey(NO_CONDITION, 'conv1', undefined, 'f16')].sort());
  t.equal(r.dropped.lines, 6, 'the cell without its bytes is measured again');
  await r.writer.close();
  t.equal(readFileSync(path, 'utf8'), intact);

  // the analysis: arms apart (CUT@CODEC); every cell carries its codec metrics (bytes, encode, decode)
  const loaded = loadResultFiles([path]);
  const cells = loaded.networks[0]!.conditions[0]!.cells;
  t.same([...cells.keys()].sort(), ['conv1', 'conv1@f16']);
  t.same(Object.keys(cells.get('conv1@f16')!).sort(), ['bytes', 'cloud', 'decode', 'edge', 'encode', 'total', 'transfer']);
  t.same(Object.keys(cells.get('conv1')!).sort(), ['bytes', 'cloud', 'decode', 'edge', 'encode', 'total', 'transfer'], 'an f32 arm records its bytes too');
  t.ok(Math.abs(cells.get('conv1@f16')!.total!.p50 - 8) < 0.1, 'the arm keeps its own latencies');
});

t.test('scenario and edge tags: after the codec, absent for single and one edge, round trip', async (t) => {
  const condition = { ...NO_CONDITION, net: 50 };
  const tag = formatTag({ condition, cut: 'conv1', codec: 'int8', scenario: 'stream:15', edge: 2, metric: 'queue_cloud' });
  t.match(tag, /;cut=conv1;codec=int8;scenario=stream:15;edge=2;metric=queue_cloud$/);
  t.same(parseTag(tag), { condition, cut: 'conv1', codec: 'int8', scenario: 'stream:15', edge: 2, metric: 'queue_cloud' });
  t.equal(formatTag({ condition, cut: 'conv1', scenario: 'single', metric: 'total' }), formatTag({ condition, cut: 'conv1', metric: 'total' }), 'single is untagged');
  t.equal(cellKey(condition, 'conv1', undefined, undefined, 'max', 0), `${conditionKey(condition)};cut=conv1;scenario=max;edge=0`);
  t.throws(() => parseTag(`${conditionKey(condition)};cut=conv1;edge=x;metric=total`), /edge=x is not an edge number/);
});
