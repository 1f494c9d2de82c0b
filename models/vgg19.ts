import { vggEntry } from './vgg.js';

/** keras.applications.VGG19: 26 layers (InputLayer included), 143,667,240 parameters. */
export const vgg19 = vggEntry('vgg19', 'keras.applications.VGG19', 143_667_240, [2, 2, 4, 4, 4]);
