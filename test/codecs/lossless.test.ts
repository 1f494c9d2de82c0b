import t from 'tap';
import { CODECS, LOSSLESS, cloudCodecProblem, parseCodecList } from '../../src/codecs/index.js';
import { lz4, zstd, zstdMissing, zstdProblem, zstdVersion } from '../../src/codecs/lossless.js';
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
  for (const codec of parseCodecList('f32,f16,int8,int8-ch,lz4,deflate,brotli,f16+lz4,int8+lz4,zstd,f16+zstd,int8+zstd')) {
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

t.test('zstd: zstd-napi is built here, level-1 frames carry their content size', async (t) => {
  t.match(zstdVersion(), /^1\.\d+\.\d+$/, 'the binding loads (CI compiles it at npm ci)');
  t.equal(zstdProblem('zstd'), null);
  const bytes = new Uint8Array(100_000).map((_, i) => (i % 7 === 0 ? i & 0xff : 0));
  const frame = zstd.compress(bytes);
  t.equal(new DataView(frame.buffer, frame.byteOffset).getUint32(0, true), 0xfd2fb528, 'a zstd frame (magic)');
  t.ok(frame.byteLength < bytes.byteLength / 4, `${frame.byteLength} bytes`);
  t.ok(Buffer.from(zstd.decompress(frame, bytes.byteLength)).equals(bytes), 'round trip');
  t.equal(zstd.decompress(zstd.compress(new Uint8Array(0)), 0).byteLength, 0, 'empty');
});

t.test('a frame that claims more than the dims need is refused before its output is allocated', async (t) => {
  // a real frame of 64 MiB of zeros: a few KiB on the wire
  const big = zstd.compress(new Uint8Array(64 << 20));
  t.ok(big.byteLength < 8192, `${big.byteLength} bytes on the wire`);
  const before = process.memoryUsage().arrayBuffers;
  t.throws(() => zstd.decompress(big, 40), new RangeError(`zstd frame claims ${64 << 20} bytes, the dims need at most 40`));
  t.ok(process.memoryUsage().arrayBuffers - before < 1 << 20, 'nothing of its size was allocated');
  // a forged header: single segment, an 8-byte content size claiming 2^40 bytes, no block after it
  const forged = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0xe0, 0, 0, 0, 0, 0, 1, 0, 0]);
  t.throws(() => zstd.decompress(forged, 1 << 20), /zstd frame claims 1099511627776 bytes, the dims need at most 1048576/);
  // the claim is the first frame's: a second frame behind a small one cannot write past its output
  const small = zstd.compress(new Uint8Array(16).fill(1));
  t.throws(() => zstd.decompress(Buffer.concat([small, big]), 16), /too small/);
  t.throws(() => zstd.decompress(Buffer.from('not a zstd frame'), 100), /Could not parse Zstandard header/);
  // without the content size (a streaming writer's frame) there is nothing to check: refused
  const unsized = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x58, 0x01, 0x00, 0x00]);
  t.throws(() => zstd.decompress(unsized, 100), /zstd frame does not carry its content size/);
  // lz4 the same way (its size prefix)
  const lz = Buffer.from(lz4.compress(new Uint8Array(1 << 20)));
  t.throws(() => lz4.decompress(lz, 40), /lz4 block claims 1048576 bytes, the dims need at most 40/);
  // and through the codec: the dims bound the claim (f32: 4 bytes per element)
  const z = CODECS.get('zstd')!;
  const e = z.encode(new Float32Array(1000), [1000]);
  t.throws(() => z.decode(e, [10]), /zstd frame claims 4000 bytes, the dims need at most 40/);
  const i8 = CODECS.get('int8+zstd')!;
  const q = i8.encode(new Float32Array(1000).fill(1), [1000]);
  t.throws(() => i8.decode(q, [999]), /zstd frame claims 1000 bytes, the dims need at most 999/);
});

t.test('where zstd-napi did not build: one line naming the package, the compiler and lz4', async (t) => {
  const m = zstdMissing('int8+zstd');
  t.equal(m, 'int8+zstd needs the optional package zstd-napi, which did not build here (it compiles zstd at install and needs a C compiler: npm i zstd-napi); use lz4 instead');
  t.notMatch(m, /\n/);
  // and a cloud without it: its WELCOME names no zstd, so the edge refuses before a sweep
  const cloudless = cloudCodecProblem(parseCodecList('f32,f16+zstd'), { node: 'v20.20.2' });
  t.equal(cloudless, '--codec f16+zstd: the cloud cannot decode zstd (its WELCOME names no zstd version: the optional package zstd-napi did not build there, or it runs an older release); use lz4 instead');
  t.equal(cloudCodecProblem(parseCodecList('f32,f16+zstd'), { zstd: '1.5.7' }), null);
  t.equal(cloudCodecProblem(parseCodecList('f32,int8+lz4'), {}), null, 'no zstd codec: nothing to ask of the cloud');
});
