import t from 'tap';
import { copyFileSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CODECS } from '../../src/codecs/index.js';
import { selectBackend } from '../../src/engine/backend.js';
import { createSplitRunner, type HostTensor } from '../../src/engine/split-runner.js';
import { disposeNetwork, loadLayersNetwork } from '../../src/model/network.js';
import { relErr } from '../helpers/compare.js';
import { ROOT } from '../helpers/cli.js';
import { readPngRgb } from '../helpers/png-read.js';

/*
 * The classifier trained here on Fashion-MNIST (bench/train-fashion.ts): a network with real
 * weights, loaded from its model.json as users load theirs. Its accuracy on the shipped held-out
 * images is computed and must be the figure its README states; every point's halves reproduce
 * the full model on real images, and the fingerprint (which both ends compare) covers the weights.
 */

const DIR = path.join(ROOT, 'models', 'trained', 'fashion-lenet');
const MODEL = path.join(DIR, 'model.json');

interface Labels {
  classes: string[];
  images: Record<string, { label: number; class: string }>;
}

/** The frame as the network takes it: luminance (BT.601, rounded to a byte), x/255 ('unit'), NHWC. */
function toInput(rgb: Uint8Array, width: number, height: number): HostTensor {
  const data = new Float32Array(width * height);
  for (let p = 0; p < data.length; p++) {
    data[p] = Math.round((rgb[p * 3]! * 299 + rgb[p * 3 + 1]! * 587 + rgb[p * 3 + 2]! * 114) / 1000) / 255;
  }
  return { data, shape: [1, height, width, 1] };
}

function argmax(a: Float32Array): number {
  let best = 0;
  for (let i = 1; i < a.length; i++) if (a[i]! > a[best]!) best = i;
  return best;
}

const labels = JSON.parse(readFileSync(path.join(DIR, 'labels.json'), 'utf8')) as Labels;
const files = readdirSync(path.join(DIR, 'images')).filter((f) => f.endsWith('.png')).sort();
const inputs = files.map((f) => {
  const { width, height, rgb } = readPngRgb(readFileSync(path.join(DIR, 'images', f)));
  return { file: f, x: toInput(rgb, width, height) };
});

/** "Accuracy on the N shipped images: A %" from the model's README. */
function statedAccuracy(): { images: number; percent: string } {
  const readme = readFileSync(path.join(DIR, 'README.md'), 'utf8');
  const m = /accuracy on the (\d+) shipped (?:held-out )?images: \*{0,2}([\d.]+) %/i.exec(readme);
  if (!m) throw new Error(`${DIR}/README.md does not state "accuracy on the N shipped images: A %"`);
  return { images: Number(m[1]), percent: m[2]! };
}

for (const backend of ['wasm', 'onnx'] as const) {
  t.test(`fashion-lenet on ${backend}: accuracy as its README states, every point reproduces the full model`, async (t) => {
    await selectBackend(backend);
    const network = await loadLayersNetwork(MODEL, { seed: 1 });
    t.equal(network.weights, 'file', 'weights come from the file, not the seed');
    t.same(network.inputShape, [28, 28, 1]);
    const runner = createSplitRunner(network);

    t.equal(inputs.length, Object.keys(labels.images).length, 'one label per shipped image');
    let correct = 0;
    const outputs: Float32Array[] = [];
    for (const { file, x } of inputs) {
      const out = (await runner.full(x)).value.data;
      outputs.push(out);
      if (argmax(out) === labels.images[file]!.label) correct++;
    }
    const accuracy = correct / inputs.length;
    const stated = statedAccuracy();
    t.equal(stated.images, inputs.length, 'the README counts the shipped images');
    t.equal((accuracy * 100).toFixed(1), stated.percent, `accuracy ${(accuracy * 100).toFixed(1)} % is the README's`);
    t.ok(accuracy >= 0.8, `a trained network: ${(accuracy * 100).toFixed(1)} % >= 80 % (chance is 10 %)`);

    t.ok(network.cuts.length >= 6, `${network.cuts.length} points`);
    for (const cut of network.cuts) {
      let worst = 0;
      let sameClass = 0;
      for (let i = 0; i < 8; i++) {
        const mid = (await runner.edge(cut, inputs[i]!.x)).value;
        const out = (await runner.cloud(cut, mid)).value.data;
        worst = Math.max(worst, relErr(out, outputs[i]!));
        if (argmax(out) === argmax(outputs[i]!)) sameClass++;
      }
      t.ok(worst <= 1e-4, `${cut.layer}: relative error ${worst.toExponential(2)} <= 1e-4 over 8 images`);
      t.equal(sameClass, 8, `${cut.layer}: same class as the full model on 8 images`);
    }
    await runner.dispose();
    disposeNetwork(network);
  });
}

t.test('fashion-lenet: real accuracy when the crossing tensor is encoded, at every inner point', async (t) => {
  await selectBackend('wasm');
  const network = await loadLayersNetwork(MODEL, { seed: 1 });
  const runner = createSplitRunner(network);
  const truth = inputs.map(({ file }) => labels.images[file]!.label);
  let full = 0;
  for (const [i, { x }] of inputs.entries()) if (argmax((await runner.full(x)).value.data) === truth[i]) full++;
  for (const cut of network.cuts.filter((c) => c.kind === 'inner')) {
    const mids = [];
    for (const { x } of inputs) mids.push((await runner.edge(cut, x)).value);
    const plain: Float32Array[] = [];
    for (const mid of mids) plain.push(new Float32Array((await runner.cloud(cut, mid)).value.data));
    for (const name of ['lz4', 'f16', 'int8', 'int8-ch']) {
      const codec = CODECS.get(name)!;
      let correct = 0;
      let maxDiff = 0;
      for (const [i, mid] of mids.entries()) {
        const dims = mid.shape.slice(1);
        const decoded = codec.decode(codec.encode(mid.data, dims), dims);
        const out = (await runner.cloud(cut, { data: new Float32Array(decoded), shape: mid.shape })).value.data;
        for (let k = 0; k < out.length; k++) maxDiff = Math.max(maxDiff, Math.abs(out[k]! - plain[i]![k]!));
        if (argmax(out) === truth[i]) correct++;
      }
      if (name === 'lz4') t.equal(maxDiff, 0, `${cut.layer} lz4: lossless, the same output to the bit`);
      else t.ok(Math.abs(correct - full) <= 2, `${cut.layer} ${name}: ${correct} of ${inputs.length} right (unsplit: ${full}), max abs change ${maxDiff.toExponential(1)}`);
    }
  }
  await runner.dispose();
  disposeNetwork(network);
});

t.test('the fingerprint both ends compare covers the trained weights', async (t) => {
  await selectBackend('wasm');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'trained-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  copyFileSync(MODEL, path.join(dir, 'model.json'));
  const weights = readFileSync(path.join(DIR, 'weights.bin'));
  writeFileSync(path.join(dir, 'weights.bin'), weights);
  const a = await loadLayersNetwork(MODEL, { seed: 1 });
  const b = await loadLayersNetwork(path.join(dir, 'model.json'), { seed: 2 });
  t.equal(b.fingerprint, a.fingerprint, 'the same file weights: the same fingerprint, whatever --seed says');
  const changed = Buffer.from(weights);
  changed.writeFloatLE(changed.readFloatLE(0) + 0.5, 0);
  writeFileSync(path.join(dir, 'weights.bin'), changed);
  const c = await loadLayersNetwork(path.join(dir, 'model.json'), { seed: 1 });
  t.not(c.fingerprint, a.fingerprint, 'one weight changed: another fingerprint');
  for (const n of [a, b, c]) disposeNetwork(n);
});
