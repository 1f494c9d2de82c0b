import t, { type Test } from 'tap';
import path from 'node:path';
import { FIXTURES } from '../helpers/cli.js';
import { selectBackend } from '../../src/engine/backend.js';
import { createSplitRunner, benchmarkInput, type HostTensor } from '../../src/engine/split-runner.js';
import type { OnnxSplitRunner } from '../../src/engine/onnx-split-runner.js';
import { loadLayersNetwork, disposeNetwork, type Network } from '../../src/model/network.js';
import { SUPPORTED_LAYERS } from '../../src/model/onnx/from-layers.js';
import { spreadPoints } from '../../src/edge/plan.js';
import { ZOO } from '../../models/index.js';
import { relErr } from '../helpers/compare.js';

/*
 * Every zoo model (and a Keras fixture) on ONNX Runtime against TF.js wasm, on the same seeded
 * weights and input: the converted graphs compute the same function. At the models' small input
 * where they have one; VGG and AlexNet need 224x224 (Flatten -> Dense). The agreement measure is
 * the issue's: max |onnx - wasm| <= 1e-4 of max |wasm|.
 */

const TOLERANCE = 1e-4;
const seen = new Set<string>();

/**
 * wasm: the full output and the crossing tensor at one inner point; then onnx: the full model,
 * its own split at a few points, and its cloud half fed wasm's crossing tensor (the mixed pair
 * a wasm edge and an onnx cloud form).
 */
async function compare(t: Test, spec: string, inputShape?: number[]): Promise<void> {
  await selectBackend('wasm');
  const network = await loadLayersNetwork(spec, { seed: 1, inputShape });
  for (const layer of network.model.layers) seen.add(layer.getClassName());
  const x = benchmarkInput(network.inputShape, 3);
  const inner = network.cuts.filter((c) => c.kind === 'inner');
  const mixedAt = inner[Math.floor(inner.length / 2)]!;
  const tfjs = createSplitRunner(network);
  const want = (await tfjs.full(x)).value;
  const wasmMid = (await tfjs.edge(mixedAt, x)).value;
  // the last inner point is before the softmax: a saturated softmax cannot hide a difference there
  const lastInner = inner.at(-1)!;
  const wasmLast = (await tfjs.edge(lastInner, x)).value;

  await selectBackend('onnx', { threads: 1 });
  const onnx = createSplitRunner(network) as OnnxSplitRunner;
  try {
    const got = (await onnx.full(x)).value;
    t.same(got.shape, want.shape, 'output shape');
    t.ok(relErr(got.data, want.data) <= TOLERANCE, `full model: onnx vs wasm ${relErr(got.data, want.data).toExponential(2)} <= ${TOLERANCE}`);
    const last = (await onnx.edge(lastInner, x)).value;
    t.ok(relErr(last.data, wasmLast.data) <= TOLERANCE, `at ${lastInner.layer} (before the top): ${relErr(last.data, wasmLast.data).toExponential(2)}`);
    const mixed = (await onnx.cloud(mixedAt, wasmMid)).value;
    t.ok(relErr(mixed.data, want.data) <= TOLERANCE, `wasm edge -> onnx cloud at ${mixedAt.layer}: ${relErr(mixed.data, want.data).toExponential(2)}`);
    for (const cut of spreadPoints(network.cuts, 3)) {
      const mid: HostTensor = (await onnx.edge(cut, x)).value;
      t.same(mid.shape.slice(1), cut.shape, `${cut.layer}: the crossing tensor is NHWC, the point's shape`);
      const out = (await onnx.cloud(cut, mid)).value;
      t.ok(relErr(out.data, want.data) <= TOLERANCE, `onnx split at ${cut.layer}: ${relErr(out.data, want.data).toExponential(2)}`);
    }
  } finally {
    await onnx.dispose();
    disposeNetwork(network as Network);
  }
}

for (const entry of ZOO) {
  t.test(`${entry.name}: onnx agrees with wasm`, (t) => compare(t, entry.name, entry.smallInputShape));
}

t.test('Keras fixture (lenet_edge_upto_9.json): onnx agrees with wasm', (t) => compare(t, path.join(FIXTURES, 'keras-json/lenet_edge_upto_9.json')));

t.test('every layer type of the zoo and the fixtures was converted', async (t) => {
  const missing = [...seen].filter((c) => !(SUPPORTED_LAYERS as readonly string[]).includes(c));
  t.same(missing, [], 'no layer type outside the converter');
  t.comment(`layer types exercised: ${[...seen].sort().join(', ')}`);
});

t.test('the onnx cloud keeps a bounded set of sessions', async (t) => {
  await selectBackend('onnx', { threads: 1 });
  const network = await loadLayersNetwork('mobilenet', { seed: 1, inputShape: [32, 32, 3] });
  const runner = createSplitRunner(network, { sessionBudget: 1 }) as OnnxSplitRunner;
  const points = network.cuts.filter((c) => c.kind === 'inner');
  for (const cut of points) await runner.cloud(cut, benchmarkInput(cut.shape, 1));
  const { created, kept } = runner.cacheStats;
  t.equal(created, points.length, 'one session per cloud half');
  t.ok(kept < points.length / 2, `kept ${kept} of ${points.length}: the later halves, together within one model's weights`);
  await runner.dispose();
});
