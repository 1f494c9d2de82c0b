import tf from '../src/tfjs.cjs';
import { call } from './functional.js';
import { KerasAutoNames } from './keras-names.js';
import { batchNormalization, conv2d, dense } from './zero-layers.js';
import { separableConv2d } from './zero-separable-layers.js';
import type { ZooEntry } from './zoo-entry.js';

/*
 * keras_applications 1.0.8 xception.py, Xception(include_top=True). Unnamed in Keras: the four
 * strided 1x1 residual convolutions with their batch normalizations (conv2d_1..4,
 * batch_normalization_1..4) and the twelve residual additions (add_1..12).
 * Note Keras's own quirk kept here: block2's only activation is named block2_sepconv2_act.
 */

const INPUT_SHAPE = [299, 299, 3];
const CLASSES = 1000;

type Tensor = tf.SymbolicTensor;

function bn(name: string): tf.layers.Layer {
  return batchNormalization({ axis: -1, name });
}

function relu(name: string): tf.layers.Layer {
  return tf.layers.activation({ activation: 'relu', name });
}

function sepConv(filters: number, name: string): tf.layers.Layer {
  return separableConv2d({ filters, kernelSize: 3, padding: 'same', useBias: false, name });
}

function build(inputShape: number[] = INPUT_SHAPE): tf.LayersModel {
  const names = new KerasAutoNames();

  const stridedResidual = (x: Tensor, filters: number): Tensor => {
    const r = call(conv2d({ filters, kernelSize: 1, strides: 2, padding: 'same', useBias: false, name: names.next('conv2d') }), x);
    return call(batchNormalization({ axis: -1, name: names.next('batch_normalization') }), r);
  };
  const add = (x: Tensor, residual: Tensor): Tensor => call(tf.layers.add({ name: names.next('add') }), [x, residual]);
  const pool = (x: Tensor, name: string): Tensor =>
    call(tf.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same', name }), x);

  const input = tf.input({ shape: inputShape, name: names.next('input') });
  let x = call(conv2d({ filters: 32, kernelSize: 3, strides: 2, useBias: false, name: 'block1_conv1' }), input);
  x = call(bn('block1_conv1_bn'), x);
  x = call(relu('block1_conv1_act'), x);
  x = call(conv2d({ filters: 64, kernelSize: 3, useBias: false, name: 'block1_conv2' }), x);
  x = call(bn('block1_conv2_bn'), x);
  x = call(relu('block1_conv2_act'), x);

  let residual = stridedResidual(x, 128);
  x = call(sepConv(128, 'block2_sepconv1'), x);
  x = call(bn('block2_sepconv1_bn'), x);
  x = call(relu('block2_sepconv2_act'), x);
  x = call(sepConv(128, 'block2_sepconv2'), x);
  x = call(bn('block2_sepconv2_bn'), x);
  x = add(pool(x, 'block2_pool'), residual);

  // entry flow blocks 3, 4 and the exit flow's block 13: relu-sepconv-bn twice, pool, add
  const downsamplingBlock = (x: Tensor, block: number, filters1: number, filters2: number): Tensor => {
    const residual = stridedResidual(x, filters2);
    x = call(relu(`block${block}_sepconv1_act`), x);
    x = call(sepConv(filters1, `block${block}_sepconv1`), x);
    x = call(bn(`block${block}_sepconv1_bn`), x);
    x = call(relu(`block${block}_sepconv2_act`), x);
    x = call(sepConv(filters2, `block${block}_sepconv2`), x);
    x = call(bn(`block${block}_sepconv2_bn`), x);
    return add(pool(x, `block${block}_pool`), residual);
  };
  x = downsamplingBlock(x, 3, 256, 256);
  x = downsamplingBlock(x, 4, 728, 728);

  // middle flow, blocks 5..12
  for (let block = 5; block <= 12; block++) {
    residual = x;
    for (let j = 1; j <= 3; j++) {
      x = call(relu(`block${block}_sepconv${j}_act`), x);
      x = call(sepConv(728, `block${block}_sepconv${j}`), x);
      x = call(bn(`block${block}_sepconv${j}_bn`), x);
    }
    x = add(x, residual);
  }

  x = downsamplingBlock(x, 13, 728, 1024);

  for (const [j, filters] of [1536, 2048].entries()) {
    const name = `block14_sepconv${j + 1}`;
    x = call(sepConv(filters, name), x);
    x = call(bn(`${name}_bn`), x);
    x = call(relu(`${name}_act`), x);
  }

  x = call(tf.layers.globalAveragePooling2d({ name: 'avg_pool' }), x);
  x = call(dense({ units: CLASSES, activation: 'softmax', name: 'predictions' }), x);
  return tf.model({ inputs: input, outputs: x, name: 'xception' });
}

/** keras.applications.Xception (299x299x3): 22,910,480 parameters. */
export const xception: ZooEntry = {
  name: 'xception',
  keras: 'keras.applications.Xception',
  preprocess: 'tf',
  inputShape: INPUT_SHAPE,
  // keras_applications' min_size for Xception
  smallInputShape: [71, 71, 3],
  params: 22_910_480,
  build,
};
