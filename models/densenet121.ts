import tf from '../src/tfjs.cjs';
import { call } from './functional.js';
import { KerasAutoNames } from './keras-names.js';
import { batchNormalization, conv2d, dense } from './zero-layers.js';
import type { ZooEntry } from './zoo-entry.js';

/*
 * keras_applications 1.0.8 densenet.py, DenseNet([6, 12, 24, 16]) with include_top. Only the two
 * ZeroPadding2D layers are unnamed in Keras (zero_padding2d_1, zero_padding2d_2).
 */

const INPUT_SHAPE = [224, 224, 3];
const BLOCKS = [6, 12, 24, 16];
const GROWTH_RATE = 32;
const BN_AXIS = 3;
const BN_EPSILON = 1.001e-5;

function bn(name: string): tf.layers.Layer {
  return batchNormalization({ axis: BN_AXIS, epsilon: BN_EPSILON, name });
}

function relu(name: string): tf.layers.Layer {
  return tf.layers.activation({ activation: 'relu', name });
}

function channels(x: tf.SymbolicTensor): number {
  return x.shape[BN_AXIS] as number;
}

function convBlock(x: tf.SymbolicTensor, name: string): tf.SymbolicTensor {
  let x1 = call(bn(`${name}_0_bn`), x);
  x1 = call(relu(`${name}_0_relu`), x1);
  x1 = call(conv2d({ filters: 4 * GROWTH_RATE, kernelSize: 1, useBias: false, name: `${name}_1_conv` }), x1);
  x1 = call(bn(`${name}_1_bn`), x1);
  x1 = call(relu(`${name}_1_relu`), x1);
  x1 = call(conv2d({ filters: GROWTH_RATE, kernelSize: 3, padding: 'same', useBias: false, name: `${name}_2_conv` }), x1);
  return call(tf.layers.concatenate({ axis: BN_AXIS, name: `${name}_concat` }), [x, x1]);
}

function denseBlock(x: tf.SymbolicTensor, blocks: number, name: string): tf.SymbolicTensor {
  for (let i = 1; i <= blocks; i++) x = convBlock(x, `${name}_block${i}`);
  return x;
}

function transitionBlock(x: tf.SymbolicTensor, reduction: number, name: string): tf.SymbolicTensor {
  x = call(bn(`${name}_bn`), x);
  x = call(relu(`${name}_relu`), x);
  const filters = Math.trunc(channels(x) * reduction);
  x = call(conv2d({ filters, kernelSize: 1, useBias: false, name: `${name}_conv` }), x);
  return call(tf.layers.averagePooling2d({ poolSize: 2, strides: 2, name: `${name}_pool` }), x);
}

function build(inputShape: number[] = INPUT_SHAPE): tf.LayersModel {
  const names = new KerasAutoNames();
  const input = tf.input({ shape: inputShape, name: names.next('input') });
  let x = call(tf.layers.zeroPadding2d({ padding: [[3, 3], [3, 3]], name: names.next('zero_padding2d') }), input);
  x = call(conv2d({ filters: 64, kernelSize: 7, strides: 2, useBias: false, name: 'conv1/conv' }), x);
  x = call(bn('conv1/bn'), x);
  x = call(relu('conv1/relu'), x);
  x = call(tf.layers.zeroPadding2d({ padding: [[1, 1], [1, 1]], name: names.next('zero_padding2d') }), x);
  x = call(tf.layers.maxPooling2d({ poolSize: 3, strides: 2, name: 'pool1' }), x);

  BLOCKS.forEach((blocks, i) => {
    x = denseBlock(x, blocks, `conv${i + 2}`);
    if (i < BLOCKS.length - 1) x = transitionBlock(x, 0.5, `pool${i + 2}`);
  });

  x = call(bn('bn'), x);
  x = call(relu('relu'), x);
  x = call(tf.layers.globalAveragePooling2d({ name: 'avg_pool' }), x);
  x = call(dense({ units: 1000, activation: 'softmax', name: 'fc1000' }), x);
  return tf.model({ inputs: input, outputs: x, name: 'densenet121' });
}

/** keras.applications.DenseNet121: 429 layers (InputLayer included), 8,062,504 parameters. */
export const densenet121: ZooEntry = {
  name: 'densenet121',
  keras: 'keras.applications.DenseNet121',
  preprocess: 'torch',
  inputShape: INPUT_SHAPE,
  smallInputShape: [32, 32, 3],
  params: 8_062_504,
  build,
};
