import { vggEntry } from './vgg.js';

/** keras.applications.VGG16: 23 layers (InputLayer included), 138,357,544 parameters. */
export const vgg16 = vggEntry('vgg16', 'keras.applications.VGG16', 138_357_544, [2, 2, 3, 3, 3]);
