import t from 'tap';
import tf from '../../src/tfjs.cjs';
import path from 'node:path';
import { selectBackend } from '../../src/engine/backend.js';
import { buildGraph } from '../../src/model/graph.js';
import { findCutPoints, selectCuts } from '../../src/model/partition.js';
import { buildHalves, runHalf } from '../../src/engine/halves.js';
import { assignSeededWeights } from '../../src/model/weights.js';
import { loadLayersNetwork } from '../../src/model/network.js';
import { FIXTURES } from '../helpers/cli.js';

await selectBackend('auto');

/** max |a-b| / max |b|: the split must reproduce the full model's output. */
function relErr(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]! / Math.max(1e-30, tf.max(tf.abs(b)).dataSync()[0]!));
}

/** input -> conv (stem) -> residual block with a projection shortcut -> identity block -> head */
function residualToy(): tf.LayersModel {
  const inp = tf.input({ shape: [12, 12, 3], name: 'input_1' });
  const stem = tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', name: 'stem' }).apply(inp) as tf.SymbolicTensor;
  let a = tf.layers.conv2d({ filters: 6, kernelSize: 3, padding: 'same', name: 'b1_a' }).apply(stem) as tf.SymbolicTensor;
  a = tf.layers.batchNormalization({ name: 'b1_bn' }).apply(a) as tf.SymbolicTensor;
  const sc = tf.layers.conv2d({ filters: 6, kernelSize: 1, name: 'b1_short' }).apply(stem) as tf.SymbolicTensor;
  let x = tf.layers.add({ name: 'b1_add' }).apply([a, sc]) as tf.SymbolicTensor;
  x = tf.layers.activation({ activation: 'relu', name: 'b1_out' }).apply(x) as tf.SymbolicTensor;
  let b = tf.layers.conv2d({ filters: 6, kernelSize: 3, padding: 'same', name: 'b2_a' }).apply(x) as tf.SymbolicTensor;
  b = tf.layers.activation({ activation: 'relu', name: 'b2_relu' }).apply(b) as tf.SymbolicTensor;
  x = tf.layers.add({ name: 'b2_add' }).apply([x, b]) as tf.SymbolicTensor;
  x = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(x) as tf.SymbolicTensor;
  const y = tf.layers.dense({ units: 5, activation: 'softmax', name: 'fc' }).apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: inp, outputs: y });
}

t.test('residual graph: block inputs are points, block insides are not', async (t) => {
  const m = residualToy();
  assignSeededWeights(m, 7);
  const cuts = findCutPoints(m);
  t.same(cuts.map((c) => c.layer), ['input_1', 'stem', 'b1_add', 'b1_out', 'b2_add', 'gap', 'fc']);
  t.same(cuts.map((c) => c.kind), ['input', 'inner', 'inner', 'inner', 'inner', 'inner', 'output']);
  t.same(cuts.map((c) => c.index), cuts.map((c) => m.layers.findIndex((l) => l.name === c.layer)));
  t.equal(cuts[1]!.bytes, 12 * 12 * 4 * 4);
  t.equal(cuts.at(-1)!.edgeParams, m.countParams());
  t.equal(cuts[0]!.edgeParams, 0);
});

t.test('every point of the residual toy reproduces the full model', async (t) => {
  const m = residualToy();
  assignSeededWeights(m, 3);
  const g = buildGraph(m);
  const x = tf.randomUniform([1, 12, 12, 3], -1, 1, 'float32', 11);
  const full = m.predict(x) as tf.Tensor;
  const weightsBefore = tf.memory().numTensors;
  for (const cut of findCutPoints(m, g)) {
    const h = buildHalves(m, g, cut);
    const mid = runHalf(h.edge, x);
    t.same(mid.shape.slice(1), cut.shape, `${cut.layer}: edge output has the point's shape`);
    const out = runHalf(h.cloud, mid);
    t.ok(relErr(out, full) <= 1e-4, `${cut.layer}: cloud(edge(x)) == model(x)`);
    tf.dispose([mid, out]);
  }
  // halves share the layers: building them created no new weight tensors
  t.equal(tf.memory().numTensors, weightsBefore, 'no tensors leaked and no weights copied');
});

t.test('both Keras 2.2.5 fixture files load and list their points', async (t) => {
  const lenet = await loadLayersNetwork(path.join(FIXTURES, 'keras-json/lenet_edge_upto_9.json'), { seed: 1 });
  t.equal(lenet.source, 'keras-json');
  t.equal(lenet.params, 1752070);
  // a Sequential model: every layer boundary is a point
  t.equal(lenet.cuts.length, lenet.model.layers.length);
  t.same(lenet.cuts.map((c) => c.index), lenet.model.layers.map((_, i) => i));
  const x = tf.randomUniform([1, 28, 28, 1], 0, 1, 'float32', 5);
  const full = lenet.model.predict(x) as tf.Tensor;
  for (const cut of lenet.cuts) {
    const h = buildHalves(lenet.model, lenet.graph, cut);
    const mid = runHalf(h.edge, x);
    t.ok(relErr(runHalf(h.cloud, mid), full) <= 1e-4, `lenet fixture ${cut.layer}`);
  }

  const vgg = await loadLayersNetwork(path.join(FIXTURES, 'keras-json/vgg16_edge_upto_21.json'), { seed: 1 });
  t.equal(vgg.model.layers.length, 22);
  t.equal(vgg.cuts.length, 22);
  t.same(vgg.cuts[5]!.layer, 'block2_conv2');
  t.same(vgg.cuts.at(-1)!.shape, [4096]);
});

t.test('seeded weights: deterministic, seed-dependent', async (t) => {
  const file = path.join(FIXTURES, 'keras-json/lenet_edge_upto_9.json');
  const a = await loadLayersNetwork(file, { seed: 1 });
  const b = await loadLayersNetwork(file, { seed: 1 });
  const c = await loadLayersNetwork(file, { seed: 2 });
  t.equal(a.fingerprint, b.fingerprint);
  t.not(a.fingerprint, c.fingerprint);
  const wa = a.model.layers[1]!.getWeights()[0]!.dataSync();
  const wb = b.model.layers[1]!.getWeights()[0]!.dataSync();
  t.same(Array.from(wa.slice(0, 50)), Array.from(wb.slice(0, 50)));
  t.ok(wa.some((v) => v !== 0), 'kernels are not zero');
});

t.test('--cuts selection by name and index', async (t) => {
  const m = residualToy();
  const cuts = findCutPoints(m);
  const idx = cuts[3]!.index;
  const r = selectCuts(cuts, `fc,${idx},nope,stem`);
  t.same(r.selected.map((c) => c.layer), ['stem', 'b1_out', 'fc']);
  t.same(r.unknown, ['nope']);
  t.equal(selectCuts(cuts, 'all').selected.length, cuts.length);
});
