import { buildVgg } from './vgg.js';
import type { ZooEntry } from './zoo-entry.js';

const INPUT_SHAPE = [224, 224, 3];

/** keras.applications.VGG16: 23 layers (InputLayer included), 138,357,544 parameters. */
export const vgg16: ZooEntry = {
  name: 'vgg16',
  keras: 'keras.applications.VGG16',
  inputShape: INPUT_SHAPE,
  params: 138_357_544,
  build: (inputShape = INPUT_SHAPE) => buildVgg('vgg16', [2, 2, 3, 3, 3], inputShape),
};
