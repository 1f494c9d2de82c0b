import tf from '../src/tfjs.cjs';
import { AutoNamedLayers } from './auto-named-layers.js';
import { chainModel } from './functional.js';
import type { ZooEntry } from './zoo-entry.js';

const INPUT_SHAPE = [28, 28, 1];

/**
 * The seed's Sequential LeNet (shared/reference/keras-applications.md), every layer with
 * Keras's automatic name of a fresh session (conv2d_1, activation_1, max_pooling2d_1, ...,
 * flatten_1, dense_1, ...; input `conv2d_1_input`).
 */
function buildLenet(inputShape: number[]): tf.LayersModel {
  const k = new AutoNamedLayers();
  const conv = (filters: number) => k.conv2d({ filters, kernelSize: 5, padding: 'same' });
  return chainModel('lenet', inputShape, [
    conv(20), k.activation('relu'), k.maxPooling2d(2, 2),
    conv(50), k.activation('relu'), k.maxPooling2d(2, 2),
    k.flatten(),
    k.dense(500), k.activation('relu'),
    k.dense(1000), k.activation('softmax'),
  ]);
}

/** 11 layers + InputLayer, 1,752,070 parameters. */
export const lenet: ZooEntry = {
  name: 'lenet',
  keras: "keras.models.Sequential (the seed's LeNet)",
  preprocess: 'unit',
  inputShape: INPUT_SHAPE,
  params: 1_752_070,
  build: (inputShape = INPUT_SHAPE) => buildLenet(inputShape),
};
