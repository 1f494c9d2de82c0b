// test-process: shared (pure: no backend, environment, signal handlers or children; see test/run-shared.ts)
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { NO_CONDITION, conditionKey } from '../../src/conditions/condition.js';
import { printBestPoints } from '../../src/edge/quick-summary.js';
import { ResultsWriter } from '../../src/results/log-writer.js';
import { cellHistograms, sampleMeta } from '../helpers/results.js';
import { writeCodecRun } from '../helpers/synthetic.js';

const dir = mkdtempSync(path.join(tmpdir(), 'dnn-quick-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

t.test('a --quick run ends with the best point per condition, and where the deployed one must move', async (t) => {
  const file = path.join(dir, 'quick.hdr');
  const w = await ResultsWriter.create(file, sampleMeta('toy', ['a', 'b']));
  const fast = { ...NO_CONDITION, net: 50 };
  const slow = { ...NO_CONDITION, net: 10 };
  // a is best on the fast link (so it is deployed), b by far on the slow one
  const totals: [typeof fast, number, number][] = [[fast, 10, 12], [slow, 30, 13]];
  for (const [c, a, b] of totals) {
    for (const [cut, total] of [['a', a], ['b', b]] as const) await w.appendCell(c, cut, cellHistograms({ edge: total / 4, transfer: total / 4, cloud: total / 2, total }), 1000, 2000);
  }
  await w.close();
  const out = new PassThrough();
  let text = '';
  out.on('data', (d: Buffer) => (text += d.toString()));
  printBestPoints(file, out);
  const lines = text.trimEnd().split('\n');
  t.match(lines[0], /^best point per condition \(toy, p50 total; with 20 samples per point/);
  t.equal(lines.length, 3, 'one line per condition');
  t.match(lines.find((l) => l.includes(conditionKey(fast))), /\sa\s+(9|10)\.\d ms$/, 'the deployed point where it is best');
  t.match(lines.find((l) => l.includes(conditionKey(slow))), /\sb\s+1[23]\.\d ms {2}<- move from a \(\+1\d\d\.\d% \[.*\], significant\)$/, 'a move, with its gain and interval');
});

t.test('with encoded arms: the best (point, codec) per condition, then what float32 alone would answer', async (t) => {
  const file = path.join(dir, 'quick-codecs.hdr');
  // null = the unshaped baseline (mid is best), 10 and 2 Mbit/s: the JPEG at the input wins where float32 must go edge-only
  await writeCodecRun(file, [null, 10, 2]);
  const out = new PassThrough();
  let text = '';
  out.on('data', (d: Buffer) => (text += d.toString()));
  printBestPoints(file, out);
  const lines = text.trimEnd().split('\n');
  t.match(lines[0], /^best \(point, codec\) per condition, within 1 point of top-1 agreement with float32 \(codecnet, p50 total; /);
  const at = (net: number, from: number) => lines.slice(from).find((l) => l.includes(conditionKey({ ...NO_CONDITION, net })))!;
  const f32Start = lines.findIndex((l) => l.startsWith('with float32 alone'));
  t.ok(f32Start > 3, 'the float32 lines come after the encoded ones');
  t.match(at(10, 1), /\sinput@jpeg:90\s/, 'at 10 Mbit/s the JPEG at the input is best');
  t.match(at(10, f32Start), /\sout\s+\d+\.\d ms .*\(the encoded answer \d+\.\d\dx faster\)$/, 'float32 alone would go edge-only, slower');
  t.match(text, /encoding removes the move at net=10[^\n]*: float32 must move from input to out; over encoded arms the split need not move from input/);
  t.match(text, /left out by the fidelity budget: mid@int8 \(-3\.0 points\), mid@int8-ch \(no fidelity recorded\)/);
  t.notOk(lines.slice(1, f32Start).some((l) => /\smid@int8\s/.test(l)), 'an arm over the budget is never the answer');
});
