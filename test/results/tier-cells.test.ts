// test-process: shared
// Three-tier cells (--tiers 3): `cut2=` right after `cut=`, `dnet=` after the other condition keys
// only when set, 6 metrics a cell (device, device_transfer first); a resume counts a cell whole only
// with all 6. Two-tier tags and keys are unchanged.
import t from 'tap';
import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { NO_CONDITION, conditionKey } from '../../src/conditions/condition.js';
import { cellText, newLatencyHistogram } from '../../src/results/log-lines.js';
import { readResultsFile } from '../../src/results/log-reader.js';
import { ResultsWriter } from '../../src/results/log-writer.js';
import { cellKey, formatTag, parseTag } from '../../src/results/tags.js';
import { checkRunMetadata } from '../../src/results/metadata.js';
import { planHash } from '../../src/results/plan.js';
import { cellHistograms, sampleMeta } from '../helpers/results.js';

const meta = { ...sampleMeta('lenet', ['conv1', 'pool1']), tiers: { count: 3 as const, configs: 3, device_slowdown: 10, edge_slowdown: 2 } };
const hist = (ms: number) => {
  const h = newLatencyHistogram();
  for (let i = 0; i < 10; i++) h.recordValue(Math.round(ms * 1000));
  return h;
};
const tierCell = (total: number) => ({ ...cellHistograms({ edge: total * 0.2, transfer: total * 0.1, cloud: total * 0.2, total }, 10), device: hist(total * 0.3), device_transfer: hist(total * 0.2) });

t.test('tags: dnet only when set, cut2 right after cut; two-tier tags unchanged', async (t) => {
  t.equal(conditionKey(NO_CONDITION), 'net=none;delay=0;jitter=0;loss=0;ecpu=0;emem=0;ccpu=0;cmem=0', 'an unshaped device link is not written');
  const c = { ...NO_CONDITION, net: 10, dnet: 50 };
  t.equal(conditionKey(c), 'net=10;delay=0;jitter=0;loss=0;ecpu=0;emem=0;ccpu=0;cmem=0;dnet=50');
  const tag = formatTag({ condition: c, cut: 'conv1', cut2: 'pool1', metric: 'device_transfer' });
  t.equal(tag, 'net=10;delay=0;jitter=0;loss=0;ecpu=0;emem=0;ccpu=0;cmem=0;dnet=50;cut=conv1;cut2=pool1;metric=device_transfer');
  t.same(parseTag(tag), { condition: c, cut: 'conv1', cut2: 'pool1', metric: 'device_transfer' });
  t.same(parseTag('net=10;cut=conv1;metric=total').condition.dnet, null, 'missing dnet: none');
  t.equal(formatTag({ condition: NO_CONDITION, cut: 'conv1', metric: 'total' }), 'net=none;delay=0;jitter=0;loss=0;ecpu=0;emem=0;ccpu=0;cmem=0;cut=conv1;metric=total', 'two-tier tag as before');
  t.equal(cellKey(c, 'conv1', undefined, undefined, undefined, undefined, 'pool1'), `${conditionKey(c)};cut=conv1;cut2=pool1`);
  t.not(cellKey(NO_CONDITION, 'conv1', undefined, undefined, undefined, undefined, 'conv1'), cellKey(NO_CONDITION, 'conv1'), 'a three-tier cell is not the two-tier one');
  t.throws(() => parseTag('cut=conv1;cut2=;metric=edge'), /cut2= is empty/);
});

t.test('write, read, resume: 6 lines a cell; a cell missing its total is torn', async (t) => {
  const path = join(t.testdir(), 'run.hdr');
  const w = await ResultsWriter.create(path, meta);
  const c = { ...NO_CONDITION, net: 10, dnet: 50 };
  await w.appendTierCell(c, 'conv1', 'pool1', tierCell(10), 0, 1);
  await w.appendTierCell(c, 'conv1', 'conv1', tierCell(8), 0, 1);
  await w.close();
  const file = readResultsFile(path);
  t.same(file.warnings, []);
  t.equal(file.meta?.tiers?.count, 3, '#dnn-meta.tiers reads back');
  t.equal(file.cells.length, 12);
  t.same(file.cells.slice(0, 6).map((x) => `${x.tag.cut}|${x.tag.cut2}/${x.tag.metric}`), ['device', 'device_transfer', 'edge', 'transfer', 'cloud', 'total'].map((m) => `conv1|pool1/${m}`));
  t.same(file.cells[0]!.tag.condition, c);

  const intact = readFileSync(path, 'utf8');
  const torn = cellText(0, c, 'pool1', tierCell(5), 0, 1, undefined, undefined, undefined, 'pool1');
  appendFileSync(path, torn.split('\n').slice(0, 5).join('\n') + '\n'); // device .. cloud, no total
  const r = await ResultsWriter.resume(path);
  t.same([...r.done].sort(), [cellKey(c, 'conv1', undefined, undefined, undefined, undefined, 'pool1'), cellKey(c, 'conv1', undefined, undefined, undefined, undefined, 'conv1')].sort());
  t.equal(r.dropped.lines, 5, 'the cell without its total is measured again');
  await r.writer.close();
  t.equal(readFileSync(path, 'utf8'), intact);

  // the 4 latencies without the device metrics are not a whole three-tier cell
  const partial = cellText(0, c, 'pool1', tierCell(5), 0, 1, undefined, undefined, undefined, 'pool1').split('\n').slice(2).join('\n');
  appendFileSync(path, partial);
  const r2 = await ResultsWriter.resume(path);
  t.equal(r2.done.size, 2, 'a cell lacking device/device_transfer is not whole');
  await r2.writer.close();
});

t.test('#dnn-meta.tiers and plan.tiers: checked; a two-tier plan hashes as before', async (t) => {
  t.throws(() => checkRunMetadata({ ...meta, tiers: { count: 2, configs: 3 } }, 'x:1'), /tiers\.count/);
  t.throws(() => checkRunMetadata({ ...meta, tiers: { count: 3, configs: 0 } }, 'x:1'), /tiers\.configs/);
  const body = { network: 'lenet', fingerprint: 'f', conditions: ['net=none'], cuts: ['a'], reps: 5, warmup: 1 };
  t.equal(planHash(body), planHash({ ...body, tiers: undefined }));
  t.not(planHash(body), planHash({ ...body, tiers: { count: 3, configs: ['a|a'] } }));
});
