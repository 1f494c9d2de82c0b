/**
 * Trains the project's own classifier with real weights: a small LeNet-like CNN on Fashion-MNIST
 * (Debian's dataset-fashion-mnist package), with TF.js in Node, deterministically (seeded
 * initialisers, seeded shuffling, no dropout, the wasm backend). Writes a TF.js layers model
 * (model.json + weights.bin) and the first IMAGES held-out test images as RGB PNGs with their labels,
 * so `--inputs` can feed them and tests can compute the model's accuracy on them.
 *   npm run train:fashion    (env: TRAIN_EPOCHS (3), TRAIN_LIMIT (60000), TRAIN_SEED (1), TRAIN_OUT (models/trained/fashion-lenet))
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import tf from '../src/tfjs.cjs';
import '@tensorflow/tfjs-backend-wasm';
import { rng, shuffled } from '../src/random.js';
import { FASHION_CLASSES, loadSplit, type Split } from './fashion-mnist.js';
import { encodeRgbPng } from './png-write.js';

const EPOCHS = Number(process.env['TRAIN_EPOCHS'] ?? 3);
/** Train on the first LIMIT training images only (quick checks of the script). */
const LIMIT = Number(process.env['TRAIN_LIMIT'] ?? 60000);
const SEED = Number(process.env['TRAIN_SEED'] ?? 1);
const OUT = process.env['TRAIN_OUT'] ?? 'models/trained/fashion-lenet';
const BATCH = 64;
const IMAGES = 200;

/** conv 3x3 -> pool -> conv 3x3 -> pool -> dense -> softmax; inputs x/255 ('unit'), 28x28x1. */
function buildModel(seed: number): tf.Sequential {
  const init = (k: number) => tf.initializers.glorotUniform({ seed: seed * 100 + k });
  const model = tf.sequential({ name: 'fashion_lenet' });
  model.add(tf.layers.conv2d({ name: 'conv1', inputShape: [28, 28, 1], filters: 16, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: init(1) }));
  model.add(tf.layers.maxPooling2d({ name: 'pool1', poolSize: 2 }));
  model.add(tf.layers.conv2d({ name: 'conv2', filters: 32, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: init(2) }));
  model.add(tf.layers.maxPooling2d({ name: 'pool2', poolSize: 2 }));
  model.add(tf.layers.flatten({ name: 'flatten' }));
  model.add(tf.layers.dense({ name: 'fc1', units: 64, activation: 'relu', kernelInitializer: init(3) }));
  model.add(tf.layers.dense({ name: 'predictions', units: 10, activation: 'softmax', kernelInitializer: init(4) }));
  return model;
}

/**
 * The model's forward pass written with ops whose gradients the wasm backend has: tfjs's
 * Conv2DBackpropFilter is missing on wasm and takes ~20 s per batch on the cpu backend, so each
 * 3x3 'same' convolution is the sum of nine shifted matMuls (the same arithmetic as conv2d). The
 * variables are the layers model's own weights, in its order: conv1 k/b, conv2 k/b, fc1 k/b, predictions k/b.
 */
function trainingForward(x: tf.Tensor4D, w: tf.Variable[]): tf.Tensor2D {
  const conv3x3 = (a: tf.Tensor4D, k: tf.Tensor, b: tf.Tensor): tf.Tensor4D => {
    const [n, h, wd, c] = a.shape;
    const f = k.shape[3]!;
    const p = tf.pad(a, [[0, 0], [1, 1], [1, 1], [0, 0]]);
    let out: tf.Tensor2D | undefined;
    for (let dy = 0; dy < 3; dy++) {
      for (let dx = 0; dx < 3; dx++) {
        const t: tf.Tensor2D = tf.matMul(tf.slice(p, [0, dy, dx, 0], [n, h, wd, c]).reshape([n * h * wd, c]) as tf.Tensor2D, tf.slice(k, [dy, dx, 0, 0], [1, 1, c, f]).reshape([c, f]) as tf.Tensor2D);
        out = out ? (out.add(t) as tf.Tensor2D) : t;
      }
    }
    return tf.relu(out!.add(b)).reshape([n, h, wd, f]);
  };
  const [k1, b1, k2, b2, k3, b3, k4, b4] = w as [tf.Variable, tf.Variable, tf.Variable, tf.Variable, tf.Variable, tf.Variable, tf.Variable, tf.Variable];
  const a1 = tf.maxPool(conv3x3(x, k1, b1), 2, 2, 'valid');
  const a2 = tf.maxPool(conv3x3(a1, k2, b2), 2, 2, 'valid');
  const h = tf.relu(tf.matMul(a2.reshape([x.shape[0], -1]), k3).add(b3));
  return tf.matMul(h, k4).add(b4) as tf.Tensor2D; // logits: softmax is folded into the loss
}

function batchTensors(split: Split, idx: readonly number[]): { x: tf.Tensor4D; y: tf.Tensor2D } {
  const px = split.rows * split.cols;
  const x = new Float32Array(idx.length * px);
  const y = new Float32Array(idx.length * 10);
  idx.forEach((n, i) => {
    for (let p = 0; p < px; p++) x[i * px + p] = split.images[n * px + p]! / 255;
    y[i * 10 + split.labels[n]!] = 1;
  });
  return { x: tf.tensor4d(x, [idx.length, split.rows, split.cols, 1]), y: tf.tensor2d(y, [idx.length, 10]) };
}

function accuracy(model: tf.LayersModel, split: Split): number {
  let correct = 0;
  for (let s = 0; s < split.count; s += 1000) {
    const idx = Array.from({ length: Math.min(1000, split.count - s) }, (_, i) => s + i);
    const { x, y } = batchTensors(split, idx);
    const pred = tf.tidy(() => (model.predict(x) as tf.Tensor).argMax(1).dataSync());
    idx.forEach((n, i) => { if (pred[i] === split.labels[n]) correct++; });
    x.dispose();
    y.dispose();
  }
  return correct / split.count;
}

async function save(model: tf.LayersModel, dir: string): Promise<number> {
  let bytes = 0;
  await model.save(tf.io.withSaveHandler(async (artifacts) => {
    const data = new Uint8Array(artifacts.weightData as ArrayBuffer);
    writeFileSync(path.join(dir, 'weights.bin'), data);
    bytes = data.length;
    const json = {
      format: 'layers-model',
      generatedBy: `TensorFlow.js tfjs-layers v${tf.version_layers}`,
      convertedBy: null,
      modelTopology: artifacts.modelTopology,
      weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }],
    };
    writeFileSync(path.join(dir, 'model.json'), JSON.stringify(json));
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }));
  return bytes;
}

function exportImages(split: Split, dir: string): void {
  const imgDir = path.join(dir, 'images');
  rmSync(imgDir, { recursive: true, force: true });
  mkdirSync(imgDir, { recursive: true });
  const px = split.rows * split.cols;
  const labels: Record<string, { label: number; class: string }> = {};
  for (let n = 0; n < IMAGES; n++) {
    const rgb = new Uint8Array(px * 3);
    for (let p = 0; p < px; p++) rgb.fill(split.images[n * px + p]!, p * 3, p * 3 + 3);
    const name = `test-${String(n).padStart(4, '0')}.png`;
    writeFileSync(path.join(imgDir, name), encodeRgbPng(split.cols, split.rows, rgb));
    labels[name] = { label: split.labels[n]!, class: FASHION_CLASSES[split.labels[n]!]! };
  }
  writeFileSync(path.join(dir, 'labels.json'), JSON.stringify({ classes: FASHION_CLASSES, images: labels }, null, 1) + '\n');
}

await tf.setBackend('wasm');
const train = loadSplit('train');
const test = loadSplit('t10k');
const model = buildModel(SEED);
const vars = model.getWeights().map((t) => tf.variable(t));
const optimizer = tf.train.adam(1e-3);
const random = rng(SEED);
const t0 = performance.now();
for (let epoch = 1; epoch <= EPOCHS; epoch++) {
  const order = shuffled(Array.from({ length: Math.min(LIMIT, train.count) }, (_, i) => i), random);
  let loss = 0;
  let batches = 0;
  for (let s = 0; s < order.length; s += BATCH) {
    const { x, y } = batchTensors(train, order.slice(s, s + BATCH));
    const l = optimizer.minimize(() => tf.losses.softmaxCrossEntropy(y, trainingForward(x, vars)), true, vars)!;
    loss += (await l.data())[0]!;
    l.dispose();
    batches++;
    x.dispose();
    y.dispose();
  }
  model.setWeights(vars);
  console.log(`epoch ${epoch}/${EPOCHS}: loss ${(loss / batches).toFixed(4)}, test accuracy ${(accuracy(model, test) * 100).toFixed(2)} % (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
}
const acc = accuracy(model, test);
mkdirSync(OUT, { recursive: true });
const bytes = await save(model, OUT);
exportImages(test, OUT);
console.log(JSON.stringify({
  model: 'fashion_lenet', seed: SEED, epochs: EPOCHS, batch: BATCH, params: model.countParams(), weights_bytes: bytes,
  test_accuracy: acc, test_images: test.count, train_images: Math.min(LIMIT, train.count), exported_images: IMAGES, tfjs: tf.version_core,
  train_seconds: Math.round((performance.now() - t0) / 1000),
}));
