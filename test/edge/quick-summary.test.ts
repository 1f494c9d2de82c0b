import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { NO_CONDITION, conditionKey } from '../../src/conditions/condition.js';
import { printBestPoints } from '../../src/edge/quick-summary.js';
import { ResultsWriter } from '../../src/results/log-writer.js';
import { cellHistograms, sampleMeta } from '../helpers/results.js';

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
