import tf from '../tfjs.cjs';
import { createHash, type Hash } from 'node:crypto';

/**
 * Untrained weights generated deterministically from a seed, so that two processes on two machines
 * build bit-identical networks without shipping hundreds of MB of weights.
 *
 * Each weight gets its own generator stream keyed by (seed, layer name, weight position), so the
 * values do not depend on build order or on tfjs's process-global weight name suffixes. Biases,
 * betas and moving means are zero, gammas and moving variances one (Keras's defaults). Kernels are
 * He-uniform over the true fan-in (for a depthwise kernel that is kh*kw, not kh*kw*channels):
 * Keras's default glorot-uniform shrinks activations by orders of magnitude per depthwise layer,
 * so an untrained MobileNet computes on denormals (slow paths on x86 wasm, skewing timings) and
 * outputs a constant. Only integer operations and single IEEE multiplications give the values,
 * so they are identical on every platform.
 */
export const WEIGHT_SCHEME = 'seeded-he-v1';

type Role = 'kernel' | 'depthwise' | 'zeros' | 'ones';

function roleOf(weightName: string, rank: number): Role {
  const base = weightName.replace(/_\d+$/, '').split('/').pop() ?? '';
  if (base === 'gamma' || base === 'moving_variance') return 'ones';
  if (base === 'bias' || base === 'beta' || base === 'moving_mean') return 'zeros';
  if (base === 'depthwise_kernel') return 'depthwise';
  if (base.endsWith('kernel') || base === 'embeddings') return 'kernel';
  return rank >= 2 ? 'kernel' : 'zeros';
}

/** Number of inputs summed into one output value. */
function fanIn(shape: number[], role: Role): number {
  const receptive = shape.slice(0, -2).reduce((a, b) => a * b, 1);
  if (role === 'depthwise') return receptive; // [kh, kw, channels, multiplier]: one channel each
  if (shape.length >= 2) return receptive * shape[shape.length - 2]!;
  return shape[0] ?? 1;
}

/** xoshiro128** seeded from SHA-256 of the key: fast, 2^128 period, reproducible everywhere. */
function generator(key: string): () => number {
  const d = createHash('sha256').update(key).digest();
  let a = d.readUInt32LE(0) | 0, b = d.readUInt32LE(4) | 0, c = d.readUInt32LE(8) | 0, e = d.readUInt32LE(12) | 0;
  if ((a | b | c | e) === 0) a = 1;
  return () => {
    const r = Math.imul(rotl(Math.imul(b, 5), 7), 9);
    const t = b << 9;
    c ^= a; e ^= b; b ^= c; a ^= e; c ^= t; e = rotl(e, 11);
    return r >>> 0;
  };
}
function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

export function seededValues(seed: number, layerName: string, position: number, weightName: string, shape: number[]): Float32Array {
  const size = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(size);
  const role = roleOf(weightName, shape.length);
  if (role === 'ones') out.fill(1);
  if (role === 'zeros' || role === 'ones') return out;
  const limit = Math.sqrt(6 / Math.max(1, fanIn(shape, role)));
  const next = generator(`${WEIGHT_SCHEME}:${seed}:${layerName}:${position}`);
  const scale = (2 * limit) / 16777216; // 24 random bits -> [-limit, limit)
  for (let i = 0; i < size; i++) out[i] = (next() >>> 8) * scale - limit;
  return out;
}

/**
 * Assigns seeded weights to every weight of the model and returns the SHA-256 of the bytes
 * assigned (in layer order), which identifies the weights exactly.
 */
export function assignSeededWeights(model: tf.LayersModel, seed: number): string {
  const hash = createHash('sha256');
  for (const layer of model.layers) {
    layer.weights.forEach((w, position) => {
      const values = seededValues(seed, layer.name, position, w.originalName ?? w.name, w.shape as number[]);
      hashArray(hash, values);
      replaceValue(w, values);
    });
  }
  return hash.digest('hex');
}

/**
 * Swaps a weight's value, freeing the old one (the build's zeros) before the new one is allocated.
 * LayerVariable.write() would hold both at once, and the wasm backend's heap never shrinks: for
 * VGG16 that kept 400 MB more resident for the life of the process.
 */
function replaceValue(w: tf.LayerVariable, values: Float32Array): void {
  const holder = w as unknown as { val: tf.Variable };
  const { name, trainable } = holder.val;
  holder.val.dispose();
  const t = tf.tensor(values, w.shape as number[], 'float32');
  holder.val = tf.variable(t, trainable, name);
  t.dispose();
}

/** SHA-256 of the weights as they are in memory (for weights loaded from files). */
export function hashWeights(model: tf.LayersModel): string {
  const hash = createHash('sha256');
  for (const layer of model.layers) {
    for (const w of layer.weights) hashArray(hash, w.read().dataSync() as Float32Array);
  }
  return hash.digest('hex');
}

function hashArray(hash: Hash, a: ArrayBufferView): void {
  hash.update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
}

/**
 * The model fingerprint both ends of a benchmark compare: topology (the layer configuration,
 * independent of tfjs version and backend) plus the identity of the weights.
 */
export function fingerprint(model: tf.LayersModel, weightsDigest: string): string {
  // The model's own name is left out: it is not part of the network (tfjs numbers unnamed models).
  const { name: _name, ...config } = model.getConfig() as Record<string, unknown>;
  const topology = JSON.stringify(config);
  return createHash('sha256').update(topology).update('\0').update(weightsDigest).digest('hex').slice(0, 32);
}
