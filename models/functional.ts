import tf from '../src/tfjs.cjs';

/** Applies a layer to one symbolic tensor (or a list, for merge layers) and returns its single output. */
export function call(layer: tf.layers.Layer, inputs: tf.SymbolicTensor | tf.SymbolicTensor[]): tf.SymbolicTensor {
  return layer.apply(inputs) as tf.SymbolicTensor;
}

/**
 * A Keras Sequential model rebuilt as a functional model: an explicit InputLayer named as
 * Sequential names it (`<first layer>_input`), then the layers in a chain. Functional, so that
 * `model.layers` starts with the InputLayer like the Keras layer list the partition indices refer to.
 */
export function chainModel(name: string, inputShape: number[], layers: tf.layers.Layer[]): tf.LayersModel {
  const first = layers[0];
  if (!first) throw new Error(`chainModel(${name}): no layers`);
  const input = tf.input({ shape: inputShape, name: `${first.name}_input` });
  const output = layers.reduce<tf.SymbolicTensor>((x, layer) => call(layer, x), input);
  return tf.model({ inputs: input, outputs: output, name });
}
