import tf from '../src/tfjs.cjs';
import { call } from './functional.js';
import { KerasAutoNames } from './keras-names.js';
import { batchNormalization, conv2d, dense } from './zero-layers.js';
import { depthwiseConv2d } from './zero-separable-layers.js';
import type { ZooEntry } from './zoo-entry.js';

/*
 * keras_applications 1.0.8 mobilenet_v2.py, MobileNetV2(alpha=1.0, include_top=True): ReLU(6.)
 * layers, and ZeroPadding2D with correct_pad before every stride-2 depthwise convolution. The only
 * unnamed Keras layer is the top's global_average_pooling2d_1.
 */

const INPUT_SHAPE = [224, 224, 3];
const CLASSES = 1000;

/** [filters, stride, expansion] of inverted residual blocks 0..16 */
const BLOCKS: ReadonlyArray<readonly [number, number, number]> = [
  [16, 1, 1],
  [24, 2, 6], [24, 1, 6],
  [32, 2, 6], [32, 1, 6], [32, 1, 6],
  [64, 2, 6], [64, 1, 6], [64, 1, 6], [64, 1, 6],
  [96, 1, 6], [96, 1, 6], [96, 1, 6],
  [160, 2, 6], [160, 1, 6], [160, 1, 6],
  [320, 1, 6],
];

function bn(name: string): tf.layers.Layer {
  return batchNormalization({ axis: -1, epsilon: 1e-3, momentum: 0.999, name });
}

function relu6(name: string): tf.layers.Layer {
  return tf.layers.reLU({ maxValue: 6, name });
}

/**
 * keras_applications.correct_pad for a 3x3 kernel: pads so a stride-2 'valid' convolution sees
 * the same windows as TensorFlow's 'same' would, one row/column less at the top/left when the
 * side is even.
 */
function correctPad(x: tf.SymbolicTensor, name: string): tf.layers.Layer {
  const adjust = (side: number | null): number => (side === null ? 1 : 1 - (side % 2));
  const [, rows, cols] = x.shape;
  return tf.layers.zeroPadding2d({ padding: [[1 - adjust(rows), 1], [1 - adjust(cols), 1]], name });
}

function invertedResBlock(
  inputs: tf.SymbolicTensor,
  filters: number,
  stride: number,
  expansion: number,
  blockId: number,
): tf.SymbolicTensor {
  const inChannels = inputs.shape[3] as number;
  let x = inputs;
  let prefix = `block_${blockId}_`;
  if (blockId) {
    x = call(conv2d({ filters: expansion * inChannels, kernelSize: 1, padding: 'same', useBias: false, name: `${prefix}expand` }), x);
    x = call(bn(`${prefix}expand_BN`), x);
    x = call(relu6(`${prefix}expand_relu`), x);
  } else {
    prefix = 'expanded_conv_';
  }
  if (stride === 2) x = call(correctPad(x, `${prefix}pad`), x);
  x = call(
    depthwiseConv2d({
      kernelSize: 3,
      strides: stride,
      useBias: false,
      padding: stride === 1 ? 'same' : 'valid',
      name: `${prefix}depthwise`,
    }),
    x,
  );
  x = call(bn(`${prefix}depthwise_BN`), x);
  x = call(relu6(`${prefix}depthwise_relu`), x);
  x = call(conv2d({ filters, kernelSize: 1, padding: 'same', useBias: false, name: `${prefix}project` }), x);
  x = call(bn(`${prefix}project_BN`), x);
  if (inChannels === filters && stride === 1) return call(tf.layers.add({ name: `${prefix}add` }), [inputs, x]);
  return x;
}

function build(inputShape: number[] = INPUT_SHAPE): tf.LayersModel {
  const names = new KerasAutoNames();
  const input = tf.input({ shape: inputShape, name: names.next('input') });
  let x = call(correctPad(input, 'Conv1_pad'), input);
  x = call(conv2d({ filters: 32, kernelSize: 3, strides: 2, padding: 'valid', useBias: false, name: 'Conv1' }), x);
  x = call(bn('bn_Conv1'), x);
  x = call(relu6('Conv1_relu'), x);
  BLOCKS.forEach(([filters, stride, expansion], id) => {
    x = invertedResBlock(x, filters, stride, expansion, id);
  });
  x = call(conv2d({ filters: 1280, kernelSize: 1, useBias: false, name: 'Conv_1' }), x);
  x = call(bn('Conv_1_bn'), x);
  x = call(relu6('out_relu'), x);
  x = call(tf.layers.globalAveragePooling2d({ name: names.next('global_average_pooling2d') }), x);
  x = call(dense({ units: CLASSES, activation: 'softmax', useBias: true, name: 'Logits' }), x);
  // Keras names the model after alpha and rows, e.g. mobilenetv2_1.00_224.
  return tf.model({ inputs: input, outputs: x, name: `mobilenetv2_1.00_${inputShape[0]}` });
}

/** keras.applications.MobileNetV2 (alpha 1.0): 3,538,984 parameters. */
export const mobilenetv2: ZooEntry = {
  name: 'mobilenetv2',
  keras: 'keras.applications.MobileNetV2',
  preprocess: 'tf',
  inputShape: INPUT_SHAPE,
  smallInputShape: [32, 32, 3],
  params: 3_538_984,
  build,
};
