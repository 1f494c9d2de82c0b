import tf from '../src/tfjs.cjs';
import { AutoNamedLayers } from './auto-named-layers.js';
import { call } from './functional.js';
import { batchNormalization, conv2d, dense } from './zero-layers.js';
import type { ZooEntry } from './zoo-entry.js';

type Tensor = tf.SymbolicTensor;

const INPUT_SHAPE = [224, 224, 3];
const EPSILON = 1.001e-5;

/**
 * keras_applications 1.0.8 resnet_common.py ResNet50V2 (pre-activation; Keras 2.2.5
 * `applications.ResNet50V2`, include_top=True). Every layer is named by Keras except the 1x1
 * stride-2 MaxPooling2D shortcuts of the last block of conv2..conv4, which get Keras's automatic
 * names max_pooling2d_1..3.
 */
class ResNet50V2Graph {
  private readonly k = new AutoNamedLayers();

  build(inputShape: number[]): tf.LayersModel {
    const input = this.k.input(inputShape);
    let x = call(tf.layers.zeroPadding2d({ padding: 3, name: 'conv1_pad' }), input);
    x = this.conv(x, 64, 7, 'conv1_conv', { strides: 2 });
    x = call(tf.layers.zeroPadding2d({ padding: 1, name: 'pool1_pad' }), x);
    x = call(tf.layers.maxPooling2d({ poolSize: 3, strides: 2, name: 'pool1_pool' }), x);

    x = this.stack(x, 64, 3, 'conv2');
    x = this.stack(x, 128, 4, 'conv3');
    x = this.stack(x, 256, 6, 'conv4');
    x = this.stack(x, 512, 3, 'conv5', 1);

    x = this.relu(this.bn(x, 'post_bn'), 'post_relu');
    x = call(tf.layers.globalAveragePooling2d({ name: 'avg_pool' }), x);
    x = call(dense({ units: 1000, activation: 'softmax', name: 'probs' }), x);
    return tf.model({ inputs: input, outputs: x, name: 'resnet50v2' });
  }

  /** Keras's stack2: a conv-shortcut block, identity blocks, and a last block carrying the stride. */
  private stack(x: Tensor, filters: number, blocks: number, name: string, lastStride = 2): Tensor {
    x = this.block(x, filters, `${name}_block1`, 1, true);
    for (let i = 2; i < blocks; i++) x = this.block(x, filters, `${name}_block${i}`, 1, false);
    return this.block(x, filters, `${name}_block${blocks}`, lastStride, false);
  }

  /** Keras's block2, layers created in the same order (the order the automatic names follow). */
  private block(input: Tensor, filters: number, name: string, stride: number, convShortcut: boolean): Tensor {
    const preact = this.relu(this.bn(input, `${name}_preact_bn`), `${name}_preact_relu`);
    let shortcut = input;
    if (convShortcut) shortcut = this.conv(preact, 4 * filters, 1, `${name}_0_conv`, { strides: stride });
    else if (stride > 1) shortcut = call(this.k.maxPooling2d(1, stride), input);

    let x = this.conv(preact, filters, 1, `${name}_1_conv`, { useBias: false });
    x = this.relu(this.bn(x, `${name}_1_bn`), `${name}_1_relu`);
    x = call(tf.layers.zeroPadding2d({ padding: 1, name: `${name}_2_pad` }), x);
    x = this.conv(x, filters, 3, `${name}_2_conv`, { strides: stride, useBias: false });
    x = this.relu(this.bn(x, `${name}_2_bn`), `${name}_2_relu`);
    x = this.conv(x, 4 * filters, 1, `${name}_3_conv`);
    return call(tf.layers.add({ name: `${name}_out` }), [shortcut, x]);
  }

  private conv(x: Tensor, filters: number, kernelSize: number, name: string, opts: { strides?: number; useBias?: boolean } = {}): Tensor {
    return call(conv2d({ filters, kernelSize, strides: opts.strides ?? 1, useBias: opts.useBias ?? true, name }), x);
  }

  private bn(x: Tensor, name: string): Tensor {
    return call(batchNormalization({ axis: 3, epsilon: EPSILON, name }), x);
  }

  private relu(x: Tensor, name: string): Tensor {
    return call(tf.layers.activation({ activation: 'relu', name }), x);
  }
}

/** 192 layers (InputLayer included), 25,613,800 parameters. */
export const resnet50v2: ZooEntry = {
  name: 'resnet50v2',
  keras: 'keras.applications.ResNet50V2',
  preprocess: 'tf',
  inputShape: INPUT_SHAPE,
  // Keras's min_size for the ResNets; global average pooling keeps the parameter count input-independent
  smallInputShape: [32, 32, 3],
  params: 25_613_800,
  build: (inputShape = INPUT_SHAPE) => new ResNet50V2Graph().build(inputShape),
};
