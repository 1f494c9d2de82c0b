import tf from '../src/tfjs.cjs';

/*
 * The layers that own weights, created with every initializer 'zeros': the seeded weight
 * generator overwrites them afterwards, and zeros cost no random draws (VGG16 builds in about
 * a second instead of drawing 138 M random numbers twice).
 */

type ConvArgs = Parameters<typeof tf.layers.conv2d>[0];
type DenseArgs = Parameters<typeof tf.layers.dense>[0];
type BatchNormArgs = Parameters<typeof tf.layers.batchNormalization>[0];

export function conv2d(args: ConvArgs): tf.layers.Layer {
  return tf.layers.conv2d({ ...args, kernelInitializer: 'zeros', biasInitializer: 'zeros' });
}

export function dense(args: DenseArgs): tf.layers.Layer {
  return tf.layers.dense({ ...args, kernelInitializer: 'zeros', biasInitializer: 'zeros' });
}

export function batchNormalization(args: BatchNormArgs): tf.layers.Layer {
  return tf.layers.batchNormalization({
    ...args,
    betaInitializer: 'zeros',
    gammaInitializer: 'zeros',
    movingMeanInitializer: 'zeros',
    movingVarianceInitializer: 'zeros',
  });
}
