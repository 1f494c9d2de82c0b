// test-lane: full (runs and verifies every split of whole models: too slow for `npm run test:unit`)
import t from 'tap';
import path from 'node:path';
import { runBin, FIXTURES } from '../helpers/cli.js';
import { userErrorOf } from '../helpers/user-error.js';
import { parseCutOptions } from '../../src/cli/cut-options.js';
import { toyModel, writeModel } from '../helpers/onnx.js';
import { selectBackend } from '../../src/engine/backend.js';
import { createSplitRunner } from '../../src/engine/split-runner.js';
import { verifySplits } from '../../src/engine/verify.js';
import { loadNetwork } from '../../src/engine/load-network.js';
import { cutReport, formatCutTable } from '../../src/model/cut-report.js';

const LENET_JSON = path.join(FIXTURES, 'keras-json/lenet_edge_upto_9.json');

t.test('dnn-cut x.onnx --verify --json: every point of an ONNX model with constants and a residual block is exact', async (t) => {
  const file = writeModel(toyModel(), { external: 'w1' });
  const r = await runBin('dnn-cut', [file, '--verify', '--json']);
  t.equal(r.exitCode, 0, String(r.stderr));
  const j = JSON.parse(String(r.stdout));
  t.equal(j.source, 'onnx');
  t.equal(j.backend, 'onnx');
  t.same(j.cuts.map((c: { layer: string }) => c.layer), ['x', 'scaled', 'conv', 'relu', 'sum', 'pool', 'y']);
  for (const c of j.cuts) t.ok(c.max_abs_diff <= j.verify.tolerance, `${c.layer}: max_abs_diff ${c.max_abs_diff}`);
  t.ok(j.verify.output_max_abs > 0, 'the output is not all zeros (a vacuous comparison)');
  t.equal(j.verify.tolerance, 1e-4 * j.verify.output_max_abs);
  t.same(j.verify, { ...j.verify, exact: true, failed: [] });
});

t.test('dnn-cut --verify on a TF.js backend: a column and a summary line', async (t) => {
  const r = await runBin('dnn-cut', [LENET_JSON, '--verify', '--backend', 'wasm']);
  t.equal(r.exitCode, 0, String(r.stderr));
  const out = String(r.stdout);
  t.match(out, /index\s+layer\s+shape\s+bytes\s+edge params\s+max abs diff/);
  t.match(out, /^verify: all 11 points reproduce the full model exactly \(within /m);
  const rows = out.split('\n').filter((l) => /^\s+\d+\s/.test(l));
  t.equal(rows.length, 11);
  for (const row of rows) t.match(row, /\s(0|\d\.\de-\d+)(\s+(cloud|edge)-only)?$/, 'a diff on every row');
});

t.test('an ONNX file on a TF.js backend is refused before anything loads', async (t) => {
  // by the option parser, which dnn-cut runs before it picks a backend (src/cli/cut.ts): in process
  // (a spawn costs ~1.3 s of CPU; cut.test.ts runs dnn-cut's refusals as a process: exit 2, one line)
  const e = await userErrorOf(() => parseCutOptions([writeModel(toyModel()), '--backend', 'wasm']));
  t.equal(e?.exitCode, 2);
  t.match(e?.message, /is an ONNX model: it runs on the onnx backend only; use --backend onnx \(or auto\), not wasm/);
  t.notMatch(e?.message ?? '', /\n/, 'one line');
});

t.test('squeezenet1_1 (PyTorch export): splits agree with the full model on ONNX Runtime', async (t) => {
  await selectBackend('onnx', { threads: 1 });
  const n = await loadNetwork(path.join(FIXTURES, 'onnx/squeezenet1_1.onnx'), { seed: 1 });
  const runner = createSplitRunner(n);
  // a sample keeps the test short; `dnn-cut squeezenet1_1.onnx --verify` checks all 34
  const some = [n.cuts[0]!, n.cuts[5]!, n.cuts[6]!, n.cuts[28]!, n.cuts.at(-1)!];
  const v = await verifySplits(n, runner, some);
  await runner.dispose();
  t.same(v.failed, []);
  t.equal(v.diffs.size, 5);
  t.ok(v.outputMaxAbs > 0);
});

t.test('a split that drifts or yields NaN is marked NOT EXACT (table) and null (JSON)', async (t) => {
  const n = await loadNetwork(writeModel(toyModel()), { seed: 1 });
  const diffs = new Map(n.cuts.map((c) => [c.layer, 0]));
  diffs.set('conv', 0.5);
  diffs.set('relu', NaN);
  const report = cutReport(n, 'onnx', { outputMaxAbs: 2, tolerance: 2e-4, diffs, failed: ['conv', 'relu'] });
  t.same(report.cuts.map((c) => c.max_abs_diff), [0, 0, 0.5, null, 0, 0, 0]);
  t.same(report.verify, { output_max_abs: 2, tolerance: 2e-4, exact: false, failed: ['conv', 'relu'] });
  const table = formatCutTable(report);
  t.match(table, /\n\s+2\s+conv\s.*5\.0e-1\s+NOT EXACT\n/);
  t.match(table, /\n\s+3\s+relu\s.*NaN\s+NOT EXACT\n/);
  t.match(table, /^verify: 2 of 7 points do NOT reproduce the full model within 2\.0e-4 .*: conv, relu$/m);
});
