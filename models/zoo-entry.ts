import type * as tf from '@tensorflow/tfjs';

/**
 * One network of the zoo. Layer structure, order and names follow Keras applications
 * (Keras 2.2.5 where it has the model) or the seed's own Sequential AlexNet/LeNet, so a Keras
 * user recognises every partition point.
 */
export interface ZooEntry {
  /** zoo name as typed on the command line, e.g. 'vgg16' */
  name: string;
  /** the Keras counterpart, e.g. 'keras.applications.VGG16' */
  keras: string;
  /** default input shape without batch, e.g. [224, 224, 3] */
  inputShape: number[];
  /**
   * A smaller input the architecture still accepts with the same parameter count
   * (used by tests to keep them fast). Omitted when the architecture needs its default
   * (e.g. a Flatten before Dense ties the weights to the input size).
   */
  smallInputShape?: number[];
  /** exact parameter count at the default input shape (../shared/reference/keras-applications.md) */
  params: number;
  /**
   * Builds the model. Every weight is created with a 'zeros' initializer: real values are
   * assigned afterwards by the seeded weight generator (fast, deterministic across machines).
   */
  build(inputShape?: number[]): tf.LayersModel;
}
