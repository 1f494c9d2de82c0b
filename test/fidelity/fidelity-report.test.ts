// test-process: shared (pure: no backend, environment, signal handlers or children; see test/run-shared.ts)
import t from 'tap';
import type { CutReport } from '../../src/model/cut-report.js';
import { TOP5_DEFINITION } from '../../src/fidelity/compare.js';
import { formatFidelityTable, withFidelity } from '../../src/fidelity/fidelity-report.js';
import type { FidelityRecord } from '../../src/fidelity/record.js';

const cut = (index: number, layer: string, shape: number[], kind: string) => ({ index, layer, shape, bytes: 4 * shape.reduce((a, b) => a * b, 1), kind, edge_params: 0, edge_params_share: 0 });
const REPORT: CutReport = {
  network: 'toy',
  source: 'zoo',
  params: 10,
  layers: 4,
  input_shape: [4, 4, 3],
  backend: 'cpu',
  seed: 1,
  weights: 'seeded',
  fingerprint: 'abcdef0123456789',
  build_ms: 1,
  cuts: [cut(0, 'in', [4, 4, 3], 'input'), cut(1, 'conv', [2, 2, 8], 'inner'), cut(2, 'pool', [8], 'inner'), cut(3, 'out', [10], 'output')],
};
const rec = (c: string, codec: string, more: Partial<FidelityRecord> = {}): FidelityRecord => ({
  cut: c,
  codec,
  bytes: 64,
  ratio: 0.5,
  encode_ms: 0.123,
  decode_ms: 0.046,
  max_abs_diff: 1.5e-6,
  rel_l2: 2.25e-5,
  top1_agreement: 0.97,
  top5_agreement: 1,
  inputs: 100,
  ...more,
});

t.test('withFidelity: each measured point gains its records without `cut`, the report what they are over', async (t) => {
  const records = [rec('in', 'jpeg:90', { bytes: 30.4, ratio: 0.16 }), rec('conv', 'f16'), rec('conv', 'int8', { max_abs_diff: NaN }), rec('out', 'f32', { bytes: 0, ratio: 1 })];
  const r = withFidelity(REPORT, records, { frames: 100, inputs: ['a.png', 'a.png#flip', 'b.jpg'], preprocess: 'tf', layout: 'nhwc' });
  t.same(r.cuts.map((c) => c.codecs?.map((f) => f.codec)), [['jpeg:90'], ['f16', 'int8'], undefined, ['f32']], 'pool was not measured: no codecs');
  t.notOk('cut' in r.cuts[1]!.codecs![0]!, 'the point is the record\'s place, not a field');
  t.same(r.fidelity, { frames: 100, inputs: ['a.png', 'a.png#flip', 'b.jpg'], preprocess: 'tf', layout: 'nhwc', top5_definition: TOP5_DEFINITION });
  t.equal(JSON.parse(JSON.stringify(r)).cuts[1].codecs[1].max_abs_diff, null, 'NaN (f16 overflow) is null in JSON');
  t.same(REPORT.cuts[1], cut(1, 'conv', [2, 2, 8], 'inner'), 'the plain report is left as it was');

  const table = formatFidelityTable(r);
  const lines = table.split('\n');
  t.match(lines[0], /^toy: 10 parameters, 4 layers, input 4x4x3, 4 partition points/);
  t.match(lines[1], /^fidelity over 100 inputs \(2 files: a\.png, b\.jpg; preprocess tf, NHWC\)/);
  t.match(table, /^\s+0\s+in\s+4x4x3\s+jpeg:90\s+30\s+0\.160\s+0\.12\s+0\.05\s+1\.5e-6\s+2\.3e-5\s+97\.0 %\s+100\.0 %\s+cloud-only$/m);
  t.match(table, /^\s+1\s+conv\s+2x2x8\s+f16\s+64\s+0\.500\s/m);
  t.match(table, /^\s+int8\s+64\s+0\.500\s+0\.12\s+0\.05\s+NaN\s/m, 'a continuation row, NaN shown');
  t.notMatch(table, /\spool\s/, 'an unmeasured point has no row');
  t.match(table, /^\s+3\s+out\s+10\s+f32\s+0\s+1\.000\s.*edge-only$/m);
});
