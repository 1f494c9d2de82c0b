import { buildVgg } from './vgg.js';
import type { ZooEntry } from './zoo-entry.js';

const INPUT_SHAPE = [224, 224, 3];

/** keras.applications.VGG19: 26 layers (InputLayer included), 143,667,240 parameters. */
export const vgg19: ZooEntry = {
  name: 'vgg19',
  keras: 'keras.applications.VGG19',
  inputShape: INPUT_SHAPE,
  params: 143_667_240,
  build: (inputShape = INPUT_SHAPE) => buildVgg('vgg19', [2, 2, 4, 4, 4], inputShape),
};
