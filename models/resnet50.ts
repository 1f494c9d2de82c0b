import tf from '../src/tfjs.cjs';
import { AutoNamedLayers } from './auto-named-layers.js';
import { call } from './functional.js';
import { batchNormalization, conv2d, dense } from './zero-layers.js';
import type { ZooEntry } from './zoo-entry.js';

type Tensor = tf.SymbolicTensor;

const INPUT_SHAPE = [224, 224, 3];

/**
 * keras_applications 1.0.8 resnet50.py (Keras 2.2.5 `applications.ResNet50`, include_top=True).
 * Named layers keep their Keras names (conv1, bn_conv1, res2a_branch2a, bn2a_branch2a, ...,
 * avg_pool, fc1000); the unnamed Activation / Add / MaxPooling2D layers get Keras's automatic
 * names in creation order (activation_1, add_1, max_pooling2d_1, ...). BatchNormalization keeps
 * Keras's default epsilon 1e-3.
 */
class ResNet50Graph {
  private readonly k = new AutoNamedLayers();

  build(inputShape: number[]): tf.LayersModel {
    const input = this.k.input(inputShape);
    let x = call(tf.layers.zeroPadding2d({ padding: 3, name: 'conv1_pad' }), input);
    x = call(conv2d({ filters: 64, kernelSize: 7, strides: 2, padding: 'valid', name: 'conv1' }), x);
    x = this.relu(this.bn(x, 'bn_conv1'));
    x = call(tf.layers.zeroPadding2d({ padding: 1, name: 'pool1_pad' }), x);
    x = call(this.k.maxPooling2d(3, 2), x);

    const stages: Array<[stage: number, filters: [number, number, number], blocks: number, strides: number]> = [
      [2, [64, 64, 256], 3, 1],
      [3, [128, 128, 512], 4, 2],
      [4, [256, 256, 1024], 6, 2],
      [5, [512, 512, 2048], 3, 2],
    ];
    for (const [stage, filters, blocks, strides] of stages) {
      x = this.block(x, filters, stage, 'a', strides);
      for (let b = 1; b < blocks; b++) x = this.block(x, filters, stage, String.fromCharCode(97 + b));
    }

    x = call(tf.layers.globalAveragePooling2d({ name: 'avg_pool' }), x);
    x = call(dense({ units: 1000, activation: 'softmax', name: 'fc1000' }), x);
    return tf.model({ inputs: input, outputs: x, name: 'resnet50' });
  }

  /**
   * Keras's conv_block when `shortcutStrides` is given (1x1 conv + BN on the shortcut, created
   * after the main branch as in Keras), else its identity_block.
   */
  private block(input: Tensor, [f1, f2, f3]: number[], stage: number, block: string, shortcutStrides?: number): Tensor {
    const conv = `res${stage}${block}_branch`;
    const bn = `bn${stage}${block}_branch`;
    const strides = shortcutStrides ?? 1;
    let x = this.relu(this.bn(this.conv(input, f1, 1, `${conv}2a`, strides), `${bn}2a`));
    x = this.relu(this.bn(this.conv(x, f2, 3, `${conv}2b`, 1, 'same'), `${bn}2b`));
    x = this.bn(this.conv(x, f3, 1, `${conv}2c`), `${bn}2c`);
    const shortcut =
      shortcutStrides === undefined ? input : this.bn(this.conv(input, f3, 1, `${conv}1`, strides), `${bn}1`);
    return this.relu(call(this.k.add(), [x, shortcut]));
  }

  private conv(x: Tensor, filters: number, kernelSize: number, name: string, strides = 1, padding: 'valid' | 'same' = 'valid'): Tensor {
    return call(conv2d({ filters, kernelSize, strides, padding, name }), x);
  }

  private bn(x: Tensor, name: string): Tensor {
    return call(batchNormalization({ axis: 3, epsilon: 1e-3, name }), x);
  }

  private relu(x: Tensor): Tensor {
    return call(this.k.activation('relu'), x);
  }
}

/** 177 layers (InputLayer included), 25,636,712 parameters. */
export const resnet50: ZooEntry = {
  name: 'resnet50',
  keras: 'keras.applications.ResNet50',
  preprocess: 'caffe',
  inputShape: INPUT_SHAPE,
  // Keras's min_size for ResNet50; global average pooling keeps the parameter count input-independent
  smallInputShape: [32, 32, 3],
  params: 25_636_712,
  build: (inputShape = INPUT_SHAPE) => new ResNet50Graph().build(inputShape),
};
