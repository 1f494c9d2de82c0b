import tf from '../src/tfjs.cjs';
import { KerasAutoNames } from './keras-names.js';
import { conv2d, dense } from './zero-layers.js';

type ConvArgs = Omit<Parameters<typeof conv2d>[0], 'name'>;
type ActivationName = 'relu' | 'softmax';

/**
 * Factories for the layers a Keras model creates without a name, named as Keras 2.2.5 names
 * them in a fresh session (see KerasAutoNames). One instance per model build.
 */
export class AutoNamedLayers {
  private readonly names = new KerasAutoNames();

  /** the model input (Keras `Input(shape=...)`: `input_1` for the first) */
  input(shape: number[]): tf.SymbolicTensor {
    return tf.input({ shape, name: this.names.next('input') });
  }

  conv2d(args: ConvArgs): tf.layers.Layer {
    return conv2d({ ...args, name: this.names.next('conv2d') });
  }

  dense(units: number): tf.layers.Layer {
    return dense({ units, name: this.names.next('dense') });
  }

  activation(activation: ActivationName): tf.layers.Layer {
    return tf.layers.activation({ activation, name: this.names.next('activation') });
  }

  maxPooling2d(poolSize: number, strides: number): tf.layers.Layer {
    return tf.layers.maxPooling2d({ poolSize, strides, name: this.names.next('max_pooling2d') });
  }

  add(): tf.layers.Layer {
    return tf.layers.add({ name: this.names.next('add') });
  }

  flatten(): tf.layers.Layer {
    return tf.layers.flatten({ name: this.names.next('flatten') });
  }

  dropout(rate: number): tf.layers.Layer {
    return tf.layers.dropout({ rate, name: this.names.next('dropout') });
  }
}
