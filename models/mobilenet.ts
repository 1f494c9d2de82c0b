import tf from '../src/tfjs.cjs';
import { call } from './functional.js';
import { KerasAutoNames } from './keras-names.js';
import { batchNormalization, conv2d } from './zero-layers.js';
import { depthwiseConv2d } from './zero-separable-layers.js';
import type { ZooEntry } from './zoo-entry.js';

/*
 * keras_applications 1.0.8 mobilenet.py, MobileNet(alpha=1.0, depth_multiplier=1, dropout=1e-3,
 * include_top=True). The only unnamed Keras layer is the top's global_average_pooling2d_1.
 * In 1.0.8 the top ends conv_preds -> reshape_2 -> act_softmax (softmax after the reshape).
 */

const INPUT_SHAPE = [224, 224, 3];
const CLASSES = 1000;
const DROPOUT = 1e-3;

/** [pointwise filters, stride] of depthwise blocks 1..13 */
const DEPTHWISE_BLOCKS: ReadonlyArray<readonly [number, number]> = [
  [64, 1], [128, 2], [128, 1], [256, 2], [256, 1], [512, 2],
  [512, 1], [512, 1], [512, 1], [512, 1], [512, 1], [1024, 2], [1024, 1],
];

function relu6(name: string): tf.layers.Layer {
  return tf.layers.reLU({ maxValue: 6, name });
}

function padBottomRight(name: string): tf.layers.Layer {
  return tf.layers.zeroPadding2d({ padding: [[0, 1], [0, 1]], name });
}

function depthwiseConvBlock(x: tf.SymbolicTensor, filters: number, stride: number, id: number): tf.SymbolicTensor {
  if (stride !== 1) x = call(padBottomRight(`conv_pad_${id}`), x);
  x = call(
    depthwiseConv2d({
      kernelSize: 3,
      padding: stride === 1 ? 'same' : 'valid',
      depthMultiplier: 1,
      strides: stride,
      useBias: false,
      name: `conv_dw_${id}`,
    }),
    x,
  );
  x = call(batchNormalization({ axis: -1, name: `conv_dw_${id}_bn` }), x);
  x = call(relu6(`conv_dw_${id}_relu`), x);
  x = call(conv2d({ filters, kernelSize: 1, padding: 'same', useBias: false, strides: 1, name: `conv_pw_${id}` }), x);
  x = call(batchNormalization({ axis: -1, name: `conv_pw_${id}_bn` }), x);
  return call(relu6(`conv_pw_${id}_relu`), x);
}

function build(inputShape: number[] = INPUT_SHAPE): tf.LayersModel {
  const names = new KerasAutoNames();
  const input = tf.input({ shape: inputShape, name: names.next('input') });
  let x = call(padBottomRight('conv1_pad'), input);
  x = call(conv2d({ filters: 32, kernelSize: 3, padding: 'valid', useBias: false, strides: 2, name: 'conv1' }), x);
  x = call(batchNormalization({ axis: -1, name: 'conv1_bn' }), x);
  x = call(relu6('conv1_relu'), x);
  DEPTHWISE_BLOCKS.forEach(([filters, stride], i) => {
    x = depthwiseConvBlock(x, filters, stride, i + 1);
  });

  x = call(tf.layers.globalAveragePooling2d({ name: names.next('global_average_pooling2d') }), x);
  x = call(tf.layers.reshape({ targetShape: [1, 1, 1024], name: 'reshape_1' }), x);
  x = call(tf.layers.dropout({ rate: DROPOUT, name: 'dropout' }), x);
  x = call(conv2d({ filters: CLASSES, kernelSize: 1, padding: 'same', name: 'conv_preds' }), x);
  x = call(tf.layers.reshape({ targetShape: [CLASSES], name: 'reshape_2' }), x);
  x = call(tf.layers.activation({ activation: 'softmax', name: 'act_softmax' }), x);
  // Keras names the model after alpha and rows, e.g. mobilenet_1.00_224.
  return tf.model({ inputs: input, outputs: x, name: `mobilenet_1.00_${inputShape[0]}` });
}

/** keras.applications.MobileNet (alpha 1.0): 93 layers (InputLayer included), 4,253,864 parameters. */
export const mobilenet: ZooEntry = {
  name: 'mobilenet',
  keras: 'keras.applications.MobileNet',
  preprocess: 'tf',
  inputShape: INPUT_SHAPE,
  smallInputShape: [32, 32, 3],
  params: 4_253_864,
  build,
};
