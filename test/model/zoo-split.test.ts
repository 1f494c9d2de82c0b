// test-lane: full (builds whole models: too slow for `npm run test:unit`)
import t, { type Test } from 'tap';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { selectBackend } from '../../src/engine/backend.js';
import { loadLayersNetwork, disposeNetwork } from '../../src/model/network.js';
import { createSplitRunner, benchmarkInput } from '../../src/engine/split-runner.js';
import { ZOO, zooEntry } from '../../models/index.js';
import type { ZooEntry } from '../../models/zoo-entry.js';
import { spreadPoints } from '../../src/edge/run-selection.js';
import { relErr } from '../helpers/compare.js';

// the TF.js halves (the onnx backend has its own test, onnx-zoo.test.ts)
await selectBackend('wasm');

/** Every point for these, an even sample (always with both ends) for the rest. */
const EVERY_POINT = new Set(['lenet', 'alexnet', 'mobilenet', 'resnet50']);
const SAMPLE = 4;
/** Sequential models (one chain of layers): every layer boundary must be a point. */
const SEQUENTIAL = new Set(['lenet', 'alexnet', 'vgg16']);

/**
 * VGG only runs at 224x224 (Flatten feeds Dense), where building and seeding its 138M weights and
 * five wasm passes cost ~12 s of CPU (a third of this file). Its layers built at 32x32 (Flatten then
 * feeds fc1 512 values instead of 25088) are the same layers, points and split, at 38M weights and
 * a fiftieth of the convolutions: written as the Keras JSON a user could pass, and split from that
 * file (zoo-a.test.ts checks the 224x224 model's structure and parameter count).
 */
const SMALL_VGG = [32, 32, 3];

async function load(t: Test, entry: ZooEntry) {
  if (entry.name !== 'vgg16') return loadLayersNetwork(entry.name, { seed: 1, inputShape: entry.smallInputShape });
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'dnn-zoo-split-')), 'vgg16.json');
  const model = entry.build(SMALL_VGG);
  writeFileSync(file, JSON.stringify(model.toJSON(null, false)));
  const layers = model.layers.map((l) => `${l.name} ${l.getClassName()}`);
  model.dispose();
  const network = await loadLayersNetwork(file, { seed: 1 });
  t.same(network.model.layers.map((l) => `${l.name} ${l.getClassName()}`), layers, "VGG16's layers, read back from its Keras JSON");
  return network;
}

// VGG19 is VGG16 with three more 3x3 convolutions of the same kind: the same layer types, points
// and conversion, at ~10 s more per test file on the 2-core machine (`dnn-cut vgg19 --verify` checks it)
for (const entry of ZOO.filter((e) => e.name !== 'vgg19')) {
  t.test(`${entry.name}: cloud(edge(x)) equals model(x) at every tested point`, async (t) => {
    const network = await load(t, entry);
    const runner = createSplitRunner(network);
    const x = benchmarkInput(network.inputShape, 3);
    const full = (await runner.full(x)).value.data;
    t.ok(full.every(Number.isFinite), 'full output is finite');
    // a constant output would make the comparison below vacuous
    const spread = Math.max(...full) - Math.min(...full);
    t.ok(spread > 1e-3 * Math.max(...full), `output varies across classes (spread ${spread.toExponential(2)})`);
    const cuts = EVERY_POINT.has(entry.name) ? network.cuts : spreadPoints(network.cuts, SAMPLE);
    t.ok(cuts.length >= 2, `${cuts.length} points tested`);
    for (const cut of cuts) {
      const mid = (await runner.edge(cut, x)).value;
      t.same(mid.shape.slice(1), cut.shape, `${cut.layer}: crossing tensor has the point's shape`);
      const out = (await runner.cloud(cut, mid)).value;
      const err = relErr(out.data, full);
      t.ok(err <= 1e-4, `${cut.layer}: relative error ${err.toExponential(2)} <= 1e-4`);
    }
    // three tiers: a few (a, b) pairs of the tested points, incl. the ends and a = b
    const pairs: [number, number][] = [[0, Math.floor(cuts.length / 2)], [1, cuts.length - 2], [Math.floor(cuts.length / 3), cuts.length - 1], [1, 1]];
    for (const [i, j] of pairs) {
      const a = cuts[Math.min(i, cuts.length - 1)]!;
      const b = cuts[Math.max(j, Math.min(i, cuts.length - 1))]!;
      const m = (await runner.middle(a, b, (await runner.edge(a, x)).value)).value;
      t.same(m.shape.slice(1), b.shape, `middle ${a.layer} -> ${b.layer}: the second cut's shape`);
      const err = relErr((await runner.cloud(b, m)).value.data, full);
      t.ok(err <= 1e-4, `cloud(middle(edge)) at ${a.layer}|${b.layer}: relative error ${err.toExponential(2)} <= 1e-4`);
    }
    // sequential models: every layer boundary is a point (checked here, on the network already built)
    if (SEQUENTIAL.has(entry.name)) t.same(network.cuts.map((c) => c.index), network.model.layers.map((_, i) => i), 'every layer boundary is a point');
    t.equal(network.cuts[0]!.kind, 'input');
    t.equal(network.cuts.at(-1)!.kind, 'output');
    await runner.dispose();
    disposeNetwork(network);
  });
}

t.test('resnet50: the input of each residual block is a point, nothing inside a block is', async (t) => {
  const n = await loadLayersNetwork('resnet50', { seed: 1, inputShape: zooEntry('resnet50')!.smallInputShape });
  const names = new Set(n.cuts.map((c) => c.layer));
  const layers = n.model.layers;
  // a block starts at every layer named res<stage><block>_branch2a; its input is what feeds it
  const blockStarts = layers.filter((l) => /^res\d[a-f]_branch2a$/.test(l.name));
  t.equal(blockStarts.length, 16, '16 residual blocks');
  for (const l of blockStarts) {
    const feeder = l.inboundNodes[0]!.inboundLayers[0]!.name;
    t.ok(names.has(feeder), `input of ${l.name.slice(0, 5)} (${feeder}) is a point`);
  }
  const inside = n.cuts.filter((c) => /branch|^bn\d/.test(c.layer));
  t.same(inside.map((c) => c.layer), [], 'no point inside a block (no branch conv/bn)');
  t.ok(n.cuts.length > 24, `more points (${n.cuts.length}) than the published rule's 24: multi-consumer block inputs count`);
  disposeNetwork(n);
});
