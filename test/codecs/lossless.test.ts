import t from 'tap';
import { LOSSLESS, parseCodecList } from '../../src/codecs/index.js';
import { activations } from '../helpers/activations.js';
import { rng } from '../helpers/protocol.js';

/** Largest |a - b|, NaN when one is NaN and the other not (so a lossy NaN fails a `0` check). */
function maxAbs(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    if (Object.is(a[i], b[i])) continue;
    m = Math.max(m, Math.abs(a[i]! - b[i]!));
    if (Number.isNaN(a[i]!) !== Number.isNaN(b[i]!)) return NaN;
  }
  return m;
}

const lossless = parseCodecList([...LOSSLESS].join(','));

t.test('lossless codecs give back every bit of real activations (lenet, mobilenet 32x32)', async (t) => {
  const tensors = [...(await activations('lenet', 4)), ...(await activations('mobilenet', 5, [32, 32, 3]))];
  t.equal(tensors.length, 9);
  for (const a of tensors) {
    for (const codec of lossless) {
      const e = codec.encode(a.values, a.dims);
      const back = codec.decode(e, a.dims);
      t.equal(back.length, a.values.length);
      t.equal(maxAbs(a.values, back), 0, `${codec.name} at ${a.network}/${a.layer} [${a.dims}]`);
      t.ok(Buffer.from(back.buffer, back.byteOffset, back.byteLength).equals(Buffer.from(a.values.buffer, a.values.byteOffset, a.values.byteLength)), `${codec.name} bit-exact at ${a.layer}`);
    }
  }
});

t.test('lossless codecs on random data, NaN, Inf, -0 and the empty tensor', async (t) => {
  const next = rng(7);
  const values = new Float32Array(10_000);
  for (let i = 0; i < values.length; i++) values[i] = (next() - 0.5) * 1e6;
  values.set([NaN, Infinity, -Infinity, -0, 0, 3.4e38, 1e-45], 0);
  for (const codec of lossless) {
    const back = codec.decode(codec.encode(values, [100, 100]), [100, 100]);
    t.ok(Buffer.from(back.buffer, back.byteOffset, back.byteLength).equals(Buffer.from(values.buffer)), `${codec.name} bit-exact`);
    const empty = codec.decode(codec.encode(new Float32Array(0), [1, 0, 4]), [1, 0, 4]);
    t.equal(empty.length, 0, `${codec.name} empty`);
  }
});

t.test('every codec refuses values that do not fill the dims', async (t) => {
  for (const codec of parseCodecList('f32,f16,int8,int8-ch,lz4,deflate,brotli,f16+lz4,int8+lz4')) {
    t.throws(() => codec.encode(new Float32Array(5), [2, 3]), /5 values, dims \[2,3\] need 6/, codec.name);
  }
});

t.test('f32 is zero-copy both ways', async (t) => {
  const [f32] = parseCodecList('f32');
  const values = new Float32Array([1, 2, 3, 4]);
  const e = f32!.encode(values, [4]);
  t.equal(e.payload.buffer, values.buffer, 'payload is a view on the values');
  t.equal(f32!.decode(e, [4]).buffer, values.buffer, 'decoded is a view on the payload');
  t.throws(() => f32!.decode(e, [5]), /payload has 16 bytes, the dims need 20/);
});

t.test('ReLU outputs compress: lz4 takes mobilenet activations below f32', async (t) => {
  const [lz4] = parseCodecList('lz4');
  const tensors = await activations('mobilenet', 3, [32, 32, 3]);
  const zeros = tensors.map((a) => a.values.filter((v) => v === 0).length / a.values.length);
  const ratio = tensors.map((a) => lz4!.encode(a.values, a.dims).payload.byteLength / a.values.byteLength);
  t.ok(zeros.some((z) => z > 0.2), `some points are mostly ReLU zeros: ${zeros.map((z) => z.toFixed(2))}`);
  t.ok(ratio.some((r) => r < 0.9), `lz4 ratios ${ratio.map((r) => r.toFixed(3))}`);
});
