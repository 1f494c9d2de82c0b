import tf from '../src/tfjs.cjs';
import { AutoNamedLayers } from './auto-named-layers.js';
import { chainModel } from './functional.js';
import type { ZooEntry } from './zoo-entry.js';

const INPUT_SHAPE = [224, 224, 3];

/**
 * The seed's Sequential AlexNet (shared/reference/keras-applications.md), every layer with
 * Keras's automatic name of a fresh session (conv2d_1, activation_1, max_pooling2d_1, ...,
 * flatten_1, dense_1, dropout_1, ...; input `conv2d_1_input`).
 */
function buildAlexnet(inputShape: number[]): tf.LayersModel {
  const k = new AutoNamedLayers();
  const conv = (filters: number, kernelSize: number, strides = 1) =>
    k.conv2d({ filters, kernelSize, strides, padding: 'valid' });
  return chainModel('alexnet', inputShape, [
    conv(96, 11, 4), k.activation('relu'), k.maxPooling2d(2, 2),
    conv(256, 11), k.activation('relu'), k.maxPooling2d(2, 2),
    conv(384, 3), k.activation('relu'),
    conv(384, 3), k.activation('relu'),
    conv(256, 3), k.activation('relu'), k.maxPooling2d(2, 2),
    k.flatten(),
    k.dense(4096), k.activation('relu'), k.dropout(0.4),
    k.dense(4096), k.activation('relu'), k.dropout(0.4),
    k.dense(1000), k.activation('relu'), k.dropout(0.4),
    k.dense(1000), k.activation('softmax'),
  ]);
}

/** 25 layers + InputLayer, 29,038,480 parameters. */
export const alexnet: ZooEntry = {
  name: 'alexnet',
  keras: "keras.models.Sequential (the seed's AlexNet)",
  preprocess: 'unit',
  inputShape: INPUT_SHAPE,
  params: 29_038_480,
  build: (inputShape = INPUT_SHAPE) => buildAlexnet(inputShape),
};
