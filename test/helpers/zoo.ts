import tf from '../../src/tfjs.cjs';

/** Layer names in model order. */
export function names(model: tf.LayersModel): string[] {
  return model.layers.map((l) => l.name);
}

/** largest |w| over every weight, trainable or not (BatchNormalization moving stats included) */
export function largestWeight(model: tf.LayersModel): number {
  return Math.max(...model.weights.map((w) => tf.tidy(() => w.read().abs().max().dataSync()[0] ?? NaN)));
}
