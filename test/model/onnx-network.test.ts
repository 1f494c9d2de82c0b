// test-process: shared (pure: no backend, environment, signal handlers or children; see test/run-shared.ts)
import t from 'tap';
import { writeFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { type OnnxFileNetwork } from '../../src/model/network.js';
import { loadNetwork } from '../../src/engine/load-network.js';
import { onnxHalves } from '../../src/model/onnx/onnx-network.js';
import { create } from '@bufbuild/protobuf';
import { DataType, ValueInfoProtoSchema, floatValue, tensorTypeOf } from '../../src/model/onnx/onnx-codec.js';
import { FIXTURES } from '../helpers/cli.js';
import { checkOnnx, onnxCheckerMissing, toyModel, writeModel } from '../helpers/onnx.js';
import { selectBackend } from '../../src/engine/backend.js';
import { benchmarkInput, createSplitRunner } from '../../src/engine/split-runner.js';
import { relErr } from '../helpers/compare.js';

const SQUEEZENET = path.join(FIXTURES, 'onnx/squeezenet1_1.onnx');
const load = async (file: string, inputShape?: number[]) => (await loadNetwork(file, { seed: 1, inputShape })) as OnnxFileNetwork;
const checker = await onnxCheckerMissing();

t.test('squeezenet1_1 (PyTorch export): points are the values every path passes through', async (t) => {
  const n = await load(SQUEEZENET);
  t.equal(n.source, 'onnx');
  t.equal(n.params, 1_235_496, 'torchvision\'s parameter count, Identity-aliased weights included');
  t.same(n.inputShape, [3, 224, 224]);
  t.equal(n.cuts.length, 34);
  t.same(n.cuts[0], { index: -1, layer: 'input', shape: [3, 224, 224], bytes: 602_112, kind: 'input', edgeParams: 0 });
  t.match(n.cuts.at(-1), { index: 82, layer: 'output', shape: [1000], kind: 'output', edgeParams: 1_235_496 });
  const names = n.cuts.map((c) => c.layer);
  // a fire module: squeeze -> (expand1x1 | expand3x3) -> Concat; the two branches are no points
  t.ok(names.includes('/features/features.3/squeeze_activation/Relu_output_0'));
  t.ok(names.includes('/features/features.3/Concat_output_0'));
  t.notOk(names.some((s) => s.includes('features.3/expand')), 'no point inside a fire module\'s branches');
  const graph = n.onnx.proto.graph!;
  for (const c of n.cuts.slice(1)) t.ok(graph.node[c.index]!.output.includes(c.layer), `${c.layer}: index is its producing node`);
});

t.test('the halves are valid ONNX (onnx.checker)', { skip: checker }, async (t) => {
  const n = await load(SQUEEZENET);
  const some = [n.cuts[0]!, n.cuts[6]!, n.cuts[20]!, n.cuts.at(-1)!];
  const models = some.flatMap((c) => Object.values(onnxHalves(n, c)).filter((m) => m !== null));
  t.equal(await checkOnnx(models), 'ok');
});

t.test('constants and weights carry no path; external data is read', async (t) => {
  const n = await load(writeModel(toyModel(), { external: 'w1' }));
  t.same(n.cuts.map((c) => c.layer), ['x', 'scaled', 'conv', 'relu', 'sum', 'pool', 'y']);
  t.same(n.cuts.map((c) => c.index), [-1, 1, 2, 3, 5, 6, 7]);
  t.same(n.cuts.map((c) => c.edgeParams), [0, 0, 57, 57, 66, 66, 66]);
  const w1 = n.onnx.proto.graph!.initializer.find((i) => i.name === 'w1')!;
  t.equal(w1.rawData?.length, 54 * 4, 'external weights embedded');
  t.same(w1.externalData, []);
  if (!checker) t.equal(await checkOnnx(n.cuts.flatMap((c) => Object.values(onnxHalves(n, c)).filter((m) => m !== null))), 'ok');
});

t.test('three tiers: cloud(middle(edge(x))) is the full model on an ONNX file, every (a, b) pair', async (t) => {
  await selectBackend('onnx', { threads: 1 });
  const n = await load(writeModel(toyModel()));
  const runner = createSplitRunner(n);
  const x = benchmarkInput(n.inputShape, 3);
  const full = (await runner.full(x)).value;
  for (const [i, a] of n.cuts.entries()) {
    const mid = (await runner.edge(a, x)).value;
    for (const b of n.cuts.slice(i)) {
      const m = await runner.middle(a, b, mid);
      t.same(m.value.shape, [1, ...b.shape], `${a.layer}|${b.layer}: the second cut's shape`);
      const out = (await runner.cloud(b, m.value)).value;
      t.ok(relErr(out.data, full.data) <= 1e-5, `${a.layer}|${b.layer}: the full model's output`);
    }
  }
  await runner.dispose();
});

t.test('dynamic dimensions: batch fixed to 1, the others by --input-shape', async (t) => {
  const file = writeModel(toyModel(['N', 2, 'H', 'W']));
  await t.rejects(load(file), { name: 'UserError', message: /input 'x' has dynamic dimensions \(Nx2xHxW\); fix them with --input-shape/ });
  const n = await load(file, [2, 6, 6]);
  t.same(n.inputShape, [2, 6, 6]);
  t.same(n.cuts.find((c) => c.layer === 'relu')!.shape, [3, 6, 6]);
  await t.rejects(load(file, [6, 6]), { message: /--input-shape 6x6 has 2 dimensions; input 'x' \(Nx2xHxW\) needs 3/ });
  await t.rejects(load(file, [3, 6, 6]), { message: /does not match the fixed dimensions/ });
  t.same((await load(writeModel(toyModel(['batch', 2, 4, 4])))).inputShape, [2, 4, 4], 'a dynamic batch alone needs no flag');
});

t.test('what cannot be partitioned gets one clear line', async (t) => {
  const two = toyModel();
  two.graph!.input.push(floatValue('x2', undefined));
  await t.rejects(load(writeModel(two)), { name: 'UserError', message: /has 2 inputs \(x, x2\) and 1 outputs; only models with one input and one output/ });
  const twoOut = toyModel();
  twoOut.graph!.output.push(create(ValueInfoProtoSchema, { name: 'pool' }));
  await t.rejects(load(writeModel(twoOut)), { message: /1 inputs \(x\) and 2 outputs/ });
  await t.rejects(load(writeModel(toyModel([1, 2, 4, 4], 6))), { message: /uses opset 6; supported: 7 to \d+/ });
  const ints = toyModel();
  tensorTypeOf(ints.graph!.input[0]!)!.elemType = DataType.INT64;
  await t.rejects(load(writeModel(ints)), { message: /only float32 inputs/ });
  await t.rejects(load(writeModel(toyModel([4, 2, 4, 4]))), { message: /fixed batch of 4/ });
  const unknownOp = toyModel();
  unknownOp.graph!.node[3]!.opType = 'NoSuchOp';
  await t.rejects(load(writeModel(unknownOp)), { name: 'UserError', message: /^ONNX Runtime cannot load 'toy.onnx': .*NoSuchOp/ });
  const missing = writeModel(toyModel(), { external: 'w1' });
  rmSync(path.join(path.dirname(missing), 'weights.bin'));
  await t.rejects(load(missing), { message: /cannot read the external data of tensor 'w1' from .*weights.bin \(ENOENT\); keep the data file next to the model/ });
  const junk = path.join(path.dirname(missing), 'junk.onnx');
  writeFileSync(junk, 'not a model at all');
  await t.rejects(load(junk), { name: 'UserError', message: /'.*junk.onnx' is not a valid ONNX model/ });
  await t.rejects(load('/nonexistent/m.onnx'), { message: /cannot read model file '\/nonexistent\/m.onnx': ENOENT/ });
});
