/**
 * Affine int8 quantisation: real = scale * (q - zeroPoint), q in [-128, 127]. The range always holds
 * 0, so 0 (half of a ReLU output) is exact and a lossless stage after it sees runs of one byte.
 * The scale is rounded to float32 before use: the header carries an f32, and both ends must agree.
 * Non-finite values: min and max are taken over finite values; +Inf and -Inf clamp to the ends of
 * the range, NaN encodes as the zero point (decodes as 0).
 */
export const Q_MIN = -128;
export const Q_MAX = 127;

export interface Affine {
  scale: number;
  zeroPoint: number;
}

/** Scale and zero point for values in [lo, hi] (finite). All zeros: scale 1, zero point 0. */
export function affineFor(lo: number, hi: number): Affine {
  const min = Math.min(lo, 0);
  const max = Math.max(hi, 0);
  if (max === min) return { scale: 1, zeroPoint: 0 };
  let scale = Math.fround((max - min) / (Q_MAX - Q_MIN));
  // a range below float32's smallest step would round the scale to 0
  if (scale === 0) scale = Math.fround(Number.MIN_VALUE) || 1.4e-45;
  const zeroPoint = Math.min(Q_MAX, Math.max(Q_MIN, Math.round(Q_MIN - min / scale)));
  return { scale, zeroPoint };
}

/** Finite min and max of the `count` runs of `inner` values at start, start + stride, ...; [0, 0] when none. */
export function finiteRange(values: Float32Array, start: number, count: number, stride: number, inner: number): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (let c = 0; c < count; c++) {
    const base = start + c * stride;
    for (let j = 0; j < inner; j++) {
      const v = values[base + j]!;
      // NaN fails both comparisons
      if (v < lo && v !== -Infinity) lo = v;
      if (v > hi && v !== Infinity) hi = v;
    }
  }
  return lo <= hi ? [lo, hi] : [0, 0];
}

/** q for `v`: rounded, clamped, NaN to the zero point. */
export function quantize(v: number, inv: number, zeroPoint: number): number {
  if (v !== v) return zeroPoint;
  const q = Math.round(v * inv) + zeroPoint;
  return q < Q_MIN ? Q_MIN : q > Q_MAX ? Q_MAX : q;
}
