import tf from '../src/tfjs.cjs';
import { call } from './functional.js';
import { KerasAutoNames } from './keras-names.js';
import { batchNormalization, conv2d, dense } from './zero-layers.js';
import type { ZooEntry } from './zoo-entry.js';

/*
 * keras_applications 1.0.8 inception_v3.py, InceptionV3(include_top=True). Its conv2d_bn helper
 * leaves Conv2D, BatchNormalization (scale=False) and Activation unnamed, so Keras numbers them
 * conv2d_1.., batch_normalization_1.., activation_1.. in creation order; the pools and the inner
 * concatenations of mixed9/mixed10 are numbered likewise. Creation order below follows the Keras
 * source line by line so every automatic name matches.
 */

const INPUT_SHAPE = [299, 299, 3];
const CLASSES = 1000;
const CHANNEL_AXIS = 3;

type Tensor = tf.SymbolicTensor;

function build(inputShape: number[] = INPUT_SHAPE): tf.LayersModel {
  const names = new KerasAutoNames();

  const convBn = (
    x: Tensor,
    filters: number,
    rows: number,
    cols: number,
    padding: 'same' | 'valid' = 'same',
    strides = 1,
  ): Tensor => {
    x = call(conv2d({ filters, kernelSize: [rows, cols], strides, padding, useBias: false, name: names.next('conv2d') }), x);
    x = call(batchNormalization({ axis: CHANNEL_AXIS, scale: false, name: names.next('batch_normalization') }), x);
    return call(tf.layers.activation({ activation: 'relu', name: names.next('activation') }), x);
  };
  const avgPool3 = (x: Tensor): Tensor =>
    call(tf.layers.averagePooling2d({ poolSize: 3, strides: 1, padding: 'same', name: names.next('average_pooling2d') }), x);
  const maxPool3 = (x: Tensor): Tensor =>
    call(tf.layers.maxPooling2d({ poolSize: 3, strides: 2, name: names.next('max_pooling2d') }), x);
  const concat = (xs: Tensor[], name = names.next('concatenate')): Tensor =>
    call(tf.layers.concatenate({ axis: CHANNEL_AXIS, name }), xs);

  const input = tf.input({ shape: inputShape, name: names.next('input') });
  let x = convBn(input, 32, 3, 3, 'valid', 2);
  x = convBn(x, 32, 3, 3, 'valid');
  x = convBn(x, 64, 3, 3);
  x = maxPool3(x);
  x = convBn(x, 80, 1, 1, 'valid');
  x = convBn(x, 192, 3, 3, 'valid');
  x = maxPool3(x);

  // mixed0..mixed2: 35 x 35 x 256 / 288 at the default input
  for (const [i, poolFilters] of [32, 64, 64].entries()) {
    const branch1x1 = convBn(x, 64, 1, 1);
    let branch5x5 = convBn(x, 48, 1, 1);
    branch5x5 = convBn(branch5x5, 64, 5, 5);
    let branch3x3dbl = convBn(x, 64, 1, 1);
    branch3x3dbl = convBn(branch3x3dbl, 96, 3, 3);
    branch3x3dbl = convBn(branch3x3dbl, 96, 3, 3);
    const branchPool = convBn(avgPool3(x), poolFilters, 1, 1);
    x = concat([branch1x1, branch5x5, branch3x3dbl, branchPool], `mixed${i}`);
  }

  // mixed3: 17 x 17 x 768
  {
    const branch3x3 = convBn(x, 384, 3, 3, 'valid', 2);
    let branch3x3dbl = convBn(x, 64, 1, 1);
    branch3x3dbl = convBn(branch3x3dbl, 96, 3, 3);
    branch3x3dbl = convBn(branch3x3dbl, 96, 3, 3, 'valid', 2);
    const branchPool = maxPool3(x);
    x = concat([branch3x3, branch3x3dbl, branchPool], 'mixed3');
  }

  // mixed4..mixed7: 17 x 17 x 768, the 7x7 width growing 128, 160, 160, 192
  for (const [i, width] of [128, 160, 160, 192].entries()) {
    const branch1x1 = convBn(x, 192, 1, 1);
    let branch7x7 = convBn(x, width, 1, 1);
    branch7x7 = convBn(branch7x7, width, 1, 7);
    branch7x7 = convBn(branch7x7, 192, 7, 1);
    let branch7x7dbl = convBn(x, width, 1, 1);
    branch7x7dbl = convBn(branch7x7dbl, width, 7, 1);
    branch7x7dbl = convBn(branch7x7dbl, width, 1, 7);
    branch7x7dbl = convBn(branch7x7dbl, width, 7, 1);
    branch7x7dbl = convBn(branch7x7dbl, 192, 1, 7);
    const branchPool = convBn(avgPool3(x), 192, 1, 1);
    x = concat([branch1x1, branch7x7, branch7x7dbl, branchPool], `mixed${4 + i}`);
  }

  // mixed8: 8 x 8 x 1280
  {
    let branch3x3 = convBn(x, 192, 1, 1);
    branch3x3 = convBn(branch3x3, 320, 3, 3, 'valid', 2);
    let branch7x7x3 = convBn(x, 192, 1, 1);
    branch7x7x3 = convBn(branch7x7x3, 192, 1, 7);
    branch7x7x3 = convBn(branch7x7x3, 192, 7, 1);
    branch7x7x3 = convBn(branch7x7x3, 192, 3, 3, 'valid', 2);
    const branchPool = maxPool3(x);
    x = concat([branch3x3, branch7x7x3, branchPool], 'mixed8');
  }

  // mixed9, mixed10: 8 x 8 x 2048
  for (let i = 0; i < 2; i++) {
    const branch1x1 = convBn(x, 320, 1, 1);
    let branch3x3 = convBn(x, 384, 1, 1);
    const branch3x3a = convBn(branch3x3, 384, 1, 3);
    const branch3x3b = convBn(branch3x3, 384, 3, 1);
    branch3x3 = concat([branch3x3a, branch3x3b], `mixed9_${i}`);
    let branch3x3dbl = convBn(x, 448, 1, 1);
    branch3x3dbl = convBn(branch3x3dbl, 384, 3, 3);
    const branch3x3dblA = convBn(branch3x3dbl, 384, 1, 3);
    const branch3x3dblB = convBn(branch3x3dbl, 384, 3, 1);
    branch3x3dbl = concat([branch3x3dblA, branch3x3dblB]);
    const branchPool = convBn(avgPool3(x), 192, 1, 1);
    x = concat([branch1x1, branch3x3, branch3x3dbl, branchPool], `mixed${9 + i}`);
  }

  x = call(tf.layers.globalAveragePooling2d({ name: 'avg_pool' }), x);
  x = call(dense({ units: CLASSES, activation: 'softmax', name: 'predictions' }), x);
  return tf.model({ inputs: input, outputs: x, name: 'inception_v3' });
}

/** keras.applications.InceptionV3 (299x299x3): 23,851,784 parameters. */
export const inceptionv3: ZooEntry = {
  name: 'inceptionv3',
  keras: 'keras.applications.InceptionV3',
  preprocess: 'tf',
  inputShape: INPUT_SHAPE,
  // keras_applications' min_size for InceptionV3
  smallInputShape: [75, 75, 3],
  params: 23_851_784,
  build,
};
