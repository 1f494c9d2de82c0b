import type * as tf from '@tensorflow/tfjs';

/**
 * How a network wants its pixels (0..255 RGB) turned into input values: Keras imagenet_utils'
 * preprocess_input modes plus 'unit' and 'raw'.
 * - 'tf': x / 127.5 - 1 (to [-1, 1])
 * - 'caffe': RGB -> BGR, minus the ImageNet BGR means 103.939, 116.779, 123.68 (no scaling)
 * - 'torch': x / 255, minus the ImageNet mean [0.485, 0.456, 0.406], over the std [0.229, 0.224, 0.225]
 * - 'unit': x / 255 (to [0, 1])
 * - 'raw': 0..255 as float
 */
export type PreprocessMode = 'tf' | 'caffe' | 'torch' | 'unit' | 'raw';

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
  /** the pixel convention of its Keras `preprocess_input` (the seed's own models: 'unit') */
  preprocess: PreprocessMode;
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
