// test-process: shared (pure: no backend, environment, signal handlers or children; see test/run-shared.ts)
import t from 'tap';
import tf from '../../src/tfjs.cjs';
import path from 'node:path';
import { ZOO } from '../../models/index.js';
import { loadNetwork } from '../../src/engine/load-network.js';
import { conventionOf, frameSize, loadFrames, parseInputs, parsePreprocess, PREPROCESS_MODES, toTensor, type Convention, type Frame, type PreprocessMode } from '../../src/inputs/index.js';
import { FIXTURES } from '../helpers/cli.js';
import { userErrorOf } from '../helpers/user-error.js';

/** The brief's table: each zoo model's Keras preprocess_input mode (the seed's own models: x/255). */
const EXPECTED: Record<string, PreprocessMode> = {
  vgg16: 'caffe', vgg19: 'caffe', resnet50: 'caffe', resnet50v2: 'tf', densenet121: 'torch', mobilenet: 'tf',
  mobilenetv2: 'tf', inceptionv3: 'tf', xception: 'tf', alexnet: 'unit', lenet: 'unit',
};

/** A 2x1 frame: pixel 0 (R, G, B) = (255, 128, 0), pixel 1 = (10, 20, 30). */
const FRAME: Frame = { width: 2, height: 1, rgb: new Uint8Array([255, 128, 0, 10, 20, 30]), source: 'test' };
const conv = (mode: PreprocessMode, layout: 'nhwc' | 'nchw' = 'nhwc', channels = 3): Convention => ({ mode, layout, channels, why: 'test' });

t.test('every zoo entry names its preprocess mode, as the table says', async (t) => {
  t.same(ZOO.map((e) => e.name).sort(), Object.keys(EXPECTED).sort(), 'the table covers the zoo');
  for (const e of ZOO) {
    t.ok(PREPROCESS_MODES.includes(e.preprocess), `${e.name} has a known mode`);
    t.equal(e.preprocess, EXPECTED[e.name], e.name);
  }
});

t.test('each mode on a known pixel (NHWC)', async (t) => {
  const close = (got: Float32Array, want: number[], what: string): void => {
    t.equal(got.length, want.length, `${what}: length`);
    want.forEach((w, i) => t.ok(Math.abs(got[i]! - w) < 1e-5, `${what}[${i}] = ${got[i]}, want ${w}`));
  };
  close(toTensor(FRAME, conv('raw')), [255, 128, 0, 10, 20, 30], 'raw');
  close(toTensor(FRAME, conv('unit')), [1, 128 / 255, 0, 10 / 255, 20 / 255, 30 / 255], 'unit');
  close(toTensor(FRAME, conv('tf')), [1, 128 / 127.5 - 1, -1, 10 / 127.5 - 1, 20 / 127.5 - 1, 30 / 127.5 - 1], 'tf');
  // caffe: BGR order, minus the BGR means
  close(toTensor(FRAME, conv('caffe')), [0 - 103.939, 128 - 116.779, 255 - 123.68, 30 - 103.939, 20 - 116.779, 10 - 123.68], 'caffe');
  const torch = (v: number, c: number): number => (v / 255 - [0.485, 0.456, 0.406][c]!) / [0.229, 0.224, 0.225][c]!;
  close(toTensor(FRAME, conv('torch')), [torch(255, 0), torch(128, 1), torch(0, 2), torch(10, 0), torch(20, 1), torch(30, 2)], 'torch');
});

t.test('NCHW puts each channel in a plane of its own; NHWC interleaves', async (t) => {
  t.same([...toTensor(FRAME, conv('raw', 'nchw'))], [255, 10, 128, 20, 0, 30]);
  t.same([...toTensor(FRAME, conv('raw', 'nhwc'))], [255, 128, 0, 10, 20, 30]);
  t.same([...toTensor(FRAME, conv('caffe', 'nchw'))].map((v) => Math.round(v * 1000) / 1000), [0 - 103.939, 30 - 103.939, 128 - 116.779, 20 - 116.779, 255 - 123.68, 10 - 123.68].map((v) => Math.round(v * 1000) / 1000));
  const out = new Float32Array(6);
  t.equal(toTensor(FRAME, conv('unit', 'nchw'), out), out, 'writes into the given buffer');
  t.throws(() => toTensor(FRAME, conv('unit'), new Float32Array(5)), RangeError, 'a buffer of the wrong size');
});

t.test('one channel: luminance (BT.601, as Pillow convert("L"))', async (t) => {
  const l0 = Math.round((255 * 299 + 128 * 587 + 0 * 114) / 1000);
  const l1 = Math.round((10 * 299 + 20 * 587 + 30 * 114) / 1000);
  t.same([...toTensor(FRAME, conv('raw', 'nhwc', 1))], [l0, l1]);
  t.same([...toTensor(FRAME, conv('unit', 'nhwc', 1))].map((v) => Math.fround(v)), [Math.fround(l0 / 255), Math.fround(l1 / 255)]);
  const white: Frame = { width: 1, height: 1, rgb: new Uint8Array([255, 255, 255]), source: 'white' };
  t.equal(toTensor(white, conv('tf', 'nchw', 1))[0], 1, 'white is 1 in tf mode');
});

t.test('conventionOf: lenet (grey, unit), mobilenet (tf), an ONNX model (torch, NCHW), --preprocess overrides the mode only', async (t) => {
  const lenet = await loadNetwork('lenet', { seed: 1 });
  t.match(conventionOf(lenet), { mode: 'unit', layout: 'nhwc', channels: 1 });
  t.same(frameSize(lenet), { height: 28, width: 28 });
  const mobilenet = await loadNetwork('mobilenet', { seed: 1, inputShape: [32, 48, 3] });
  t.same(conventionOf(mobilenet), { mode: 'tf', layout: 'nhwc', channels: 3, why: 'Keras mobilenet preprocess_input (tf)' });
  t.same(frameSize(mobilenet), { height: 32, width: 48 });
  const squeeze = await loadNetwork(path.join(FIXTURES, 'onnx/squeezenet1_1.onnx'), { seed: 1 });
  const c = conventionOf(squeeze);
  t.match(c, { mode: 'torch', layout: 'nchw', channels: 3 });
  t.match(c.why, /ONNX/);
  t.same(frameSize(squeeze), { height: 224, width: 224 });
  t.same(conventionOf(squeeze, 'caffe'), { mode: 'caffe', layout: 'nchw', channels: 3, why: '--preprocess caffe' });
  const lenetTensor = toTensor({ width: 28, height: 28, rgb: new Uint8Array(28 * 28 * 3).fill(255), source: 'white' }, conventionOf(lenet));
  t.equal(lenetTensor.length, 28 * 28, 'lenet takes 28x28x1');
  t.ok(lenetTensor.every((v) => v === 1));
});

t.test('parsePreprocess: the five modes; anything else a one-line UserError listing them', async (t) => {
  for (const m of PREPROCESS_MODES) t.equal(parsePreprocess(m), m);
  t.equal(parsePreprocess(' Caffe '), 'caffe');
  const e = await userErrorOf(() => parsePreprocess('imagenet'));
  t.ok(e, 'a UserError');
  t.match(e!.message, /^--preprocess: unknown mode 'imagenet'; use one of tf \(.*\), caffe .*torch .*unit .*raw/);
  t.notMatch(e!.message, /\n/);
});

t.test('lenet takes the photos as 28x28 luminance in [0, 1] and classifies them', async (t) => {
  const lenet = await loadNetwork('lenet', { seed: 1 });
  if (lenet.source === 'onnx') throw new Error('lenet is a layers model');
  const c = conventionOf(lenet);
  const frames = await loadFrames(parseInputs(undefined), frameSize(lenet));
  const values = frames.map((f) => toTensor(f, c));
  for (const v of values) {
    t.equal(v.length, 28 * 28);
    t.ok(v.every((x) => x >= 0 && x <= 1), 'in [0, 1]');
  }
  t.ok(values.some((v) => v.some((x) => x > 0.5)) && values.some((v) => v.some((x) => x < 0.5)), 'not flat');
  const input = tf.tensor4d(values.flatMap((v) => [...v]), [values.length, 28, 28, 1]);
  const out = lenet.model.predict(input) as tf.Tensor;
  t.same(out.shape, [7, 1000], 'one prediction per photo');
  t.ok((await out.data()).every(Number.isFinite));
  tf.dispose([input, out]);
});
