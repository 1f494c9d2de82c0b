import tf from '../src/tfjs.cjs';
import { AutoNamedLayers } from './auto-named-layers.js';
import { call } from './functional.js';
import { conv2d, dense } from './zero-layers.js';
import type { ZooEntry } from './zoo-entry.js';

/** Filters of the five VGG blocks (keras_applications vgg16.py / vgg19.py). */
const BLOCK_FILTERS = [64, 128, 256, 512, 512];

/**
 * VGG as in keras_applications 1.0.8 with include_top=True: five blocks of 3x3 'same' ReLU convs
 * (`block<b>_conv<c>`) each closed by a 2x2 max pool (`block<b>_pool`), then `flatten`, `fc1`,
 * `fc2` and `predictions`. The input is the session's first Input: `input_1`.
 */
function buildVgg(name: string, convsPerBlock: number[], inputShape: number[]): tf.LayersModel {
  const input = new AutoNamedLayers().input(inputShape);
  let x = input;
  BLOCK_FILTERS.forEach((filters, i) => {
    const block = `block${i + 1}`;
    for (let c = 1; c <= (convsPerBlock[i] ?? 0); c++) {
      x = call(conv2d({ filters, kernelSize: 3, padding: 'same', activation: 'relu', name: `${block}_conv${c}` }), x);
    }
    x = call(tf.layers.maxPooling2d({ poolSize: 2, strides: 2, name: `${block}_pool` }), x);
  });
  x = call(tf.layers.flatten({ name: 'flatten' }), x);
  x = call(dense({ units: 4096, activation: 'relu', name: 'fc1' }), x);
  x = call(dense({ units: 4096, activation: 'relu', name: 'fc2' }), x);
  x = call(dense({ units: 1000, activation: 'softmax', name: 'predictions' }), x);
  return tf.model({ inputs: input, outputs: x, name });
}

/** The zoo entry of a VGG variant: they differ only in the number of convs per block. */
export function vggEntry(name: string, keras: string, params: number, convsPerBlock: number[]): ZooEntry {
  const inputShape = [224, 224, 3];
  // keras.applications.vgg16/vgg19 preprocess_input: imagenet_utils mode 'caffe'
  return { name, keras, preprocess: 'caffe', inputShape, params, build: (shape = inputShape) => buildVgg(name, convsPerBlock, shape) };
}
