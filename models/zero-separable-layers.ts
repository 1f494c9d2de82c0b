import tf from '../src/tfjs.cjs';

/*
 * Depthwise and separable convolutions with every initializer 'zeros', as in zero-layers.ts:
 * the seeded weight generator assigns the real values afterwards.
 */

type DepthwiseArgs = Parameters<typeof tf.layers.depthwiseConv2d>[0];
type SeparableArgs = Parameters<typeof tf.layers.separableConv2d>[0];

export function depthwiseConv2d(args: DepthwiseArgs): tf.layers.Layer {
  return tf.layers.depthwiseConv2d({ ...args, depthwiseInitializer: 'zeros', biasInitializer: 'zeros' });
}

export function separableConv2d(args: SeparableArgs): tf.layers.Layer {
  return tf.layers.separableConv2d({
    ...args,
    depthwiseInitializer: 'zeros',
    pointwiseInitializer: 'zeros',
    biasInitializer: 'zeros',
  });
}
