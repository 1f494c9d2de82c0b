// test-process: shared (pure: no backend, environment, signal handlers or children; see test/run-shared.ts)
import t from 'tap';
import { CODECS, fromHalf, parseCodecList, toHalf } from '../../src/codecs/index.js';
import { isUserError } from '../../src/errors.js';
import { activations } from '../helpers/activations.js';
import { rng } from '../helpers/protocol.js';

const codec = (name: string) => CODECS.get(name)!;
const f16 = codec('f16');
const int8 = codec('int8');
const int8ch = codec('int8-ch');

function randomValues(n: number, seed: number, spread = 10): Float32Array {
  const next = rng(seed);
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) v[i] = (next() - 0.5) * spread;
  return v;
}

t.test('f16: round to nearest even, IEEE specials, and exactly half the f32 bytes', async (t) => {
  // 1 + 2^-11 is halfway between 1 and 1 + 2^-10: ties to even (1); 1 + 3 * 2^-11 rounds up to 1 + 2^-9
  t.equal(fromHalf(toHalf(1 + 2 ** -11)), 1);
  t.equal(fromHalf(toHalf(1 + 3 * 2 ** -11)), 1 + 2 ** -9);
  t.equal(toHalf(65504), 0x7bff, 'largest half');
  t.equal(toHalf(65520), 0x7c00, 'halfway past the largest rounds to Infinity');
  t.equal(toHalf(-Infinity), 0xfc00);
  t.ok(Number.isNaN(fromHalf(toHalf(NaN))), 'NaN stays NaN');
  t.equal(toHalf(-0), 0x8000, '-0 keeps its sign');
  t.equal(fromHalf(toHalf(2 ** -24)), 2 ** -24, 'smallest subnormal');
  t.equal(toHalf(2 ** -26), 0, 'below half the smallest subnormal: 0');
  t.equal(fromHalf(toHalf(3 * 2 ** -25)), 2 ** -23, 'subnormal tie rounds to even');
  // every half value survives half -> f32 -> half
  for (let h = 0; h < 0x10000; h++) {
    const back = toHalf(fromHalf(h));
    if (back !== h && !(Number.isNaN(fromHalf(h)) && Number.isNaN(fromHalf(back)))) t.fail(`half ${h} came back as ${back}`);
  }
  const v = randomValues(4000, 3);
  t.equal(f16.encode(v, [4000]).payload.byteLength, v.byteLength / 2);
});

t.test('f16 relative error <= 2^-11 on normal values of real activations and random data', async (t) => {
  const tensors = [...(await activations('mobilenet', 4, [32, 32, 3])), { layer: 'random', dims: [1, 50, 50, 4], values: randomValues(10_000, 5, 1000) }];
  for (const a of tensors) {
    const e = f16.encode(a.values, a.dims);
    t.equal(e.payload.byteLength * 2, a.values.byteLength, `${a.layer}: half the bytes`);
    const back = f16.decode(e, a.dims);
    let worst = 0;
    for (let i = 0; i < back.length; i++) {
      const x = a.values[i]!;
      if (Math.abs(x) < 2 ** -14) continue; // subnormal in half: absolute, not relative, precision
      worst = Math.max(worst, Math.abs(back[i]! - x) / Math.abs(x));
    }
    t.ok(worst <= 2 ** -11, `${a.layer}: worst relative error ${worst}`);
  }
});

/** Largest |decoded - value| over finite values, and the bound scale/2 (per element's channel). */
function worstOverBound(values: Float32Array, back: Float32Array, scaleOf: (i: number) => number): number {
  let worst = 0;
  for (let i = 0; i < values.length; i++) {
    const s = scaleOf(i);
    worst = Math.max(worst, Math.abs(back[i]! - values[i]!) / (s / 2 + 1e-7 * Math.abs(values[i]!)));
  }
  return worst;
}

t.test('int8 and int8-ch: a quarter of the bytes, max abs error <= scale/2 + eps', async (t) => {
  const tensors = [
    ...(await activations('lenet', 3)),
    ...(await activations('mobilenet', 4, [32, 32, 3])),
    { network: 'random', layer: 'random', dims: [1, 20, 20, 8], values: randomValues(3200, 9, 40) },
  ];
  for (const a of tensors) {
    const e = int8.encode(a.values, a.dims);
    t.equal(e.payload.byteLength * 4, a.values.byteLength, `${a.layer}: int8 a quarter`);
    t.equal(e.params.byteLength, 0);
    t.ok(e.scale > 0 && e.zeroPoint >= -128 && e.zeroPoint <= 127);
    const back = int8.decode(e, a.dims);
    t.ok(worstOverBound(a.values, back, () => e.scale) <= 1, `${a.layer}: int8 error within scale/2`);

    const channels = a.dims[a.dims.length - 1]!;
    const c = int8ch.encode(a.values, a.dims);
    t.equal(c.payload.byteLength * 4, a.values.byteLength, `${a.layer}: int8-ch a quarter`);
    t.equal(c.params.byteLength, 8 + 5 * channels, `${a.layer}: int8-ch parameters 8 + 5 x ${channels} channels`);
    const view = new DataView(c.params.buffer, c.params.byteOffset);
    const backCh = int8ch.decode(c, a.dims);
    t.ok(worstOverBound(a.values, backCh, (i) => view.getFloat32(8 + 4 * (i % channels), true)) <= 1, `${a.layer}: int8-ch error within its channel's scale/2`);
    // each channel's range lies within the tensor's, so its step is never coarser (an all-zero channel takes scale 1)
    const live = new Set<number>();
    a.values.forEach((v, i) => v !== 0 && live.add(i % channels));
    const coarser = [...live].filter((ch) => view.getFloat32(8 + 4 * ch, true) > e.scale);
    t.same(coarser, [], `${a.layer}: no channel with values has a coarser step than the tensor (${live.size} of ${channels} live)`);
  }
});

t.test('int8-ch: the channel axis is a parameter (NCHW: 1) and travels in the parameters', async (t) => {
  // two channels at axis 1 with ranges 100x apart: per channel keeps the small one precise
  const dims = [1, 2, 3, 3];
  const v = new Float32Array(18);
  for (let i = 0; i < 9; i++) {
    v[i] = i * 0.01;
    v[9 + i] = i * 1;
  }
  const e = int8ch.encode(v, dims, { channelAxis: 1 });
  t.equal(new DataView(e.params.buffer).getUint32(0, true), 1, 'axis 1 recorded');
  t.equal(e.params.byteLength, 8 + 5 * 2);
  const back = int8ch.decode(e, dims);
  for (let i = 0; i < 9; i++) t.ok(Math.abs(back[i]! - v[i]!) <= 0.08 / 255 / 2 + 1e-7, `small channel element ${i}`);
  t.throws(() => int8ch.encode(v, dims, { channelAxis: 4 }), /channel axis 4 is not an axis of dims \[1,2,3,3\] \(NHWC: 3, NCHW: 1\)/);
  t.throws(() => int8ch.decode(e, [1, 3, 3, 2]), /parameters name axis 1 of 2 channels/);
});

t.test('int8 edge cases: empty, all equal, all zero, NaN and Inf', async (t) => {
  for (const c of [int8, int8ch]) {
    const empty = c.encode(new Float32Array(0), [1, 0, 3]);
    t.equal(c.decode(empty, [1, 0, 3]).length, 0, `${c.name} empty`);
    const zeros = c.encode(new Float32Array(12), [1, 2, 2, 3]);
    t.same([...c.decode(zeros, [1, 2, 2, 3])], new Array(12).fill(0), `${c.name} all zeros exact`);
    const fives = c.encode(new Float32Array(12).fill(5), [1, 2, 2, 3]);
    const back = c.decode(fives, [1, 2, 2, 3]);
    t.ok(back.every((x) => Math.abs(x - 5) <= 1e-5), `${c.name} all equal: ${back[0]}`);
    // non-finite: range from the finite values; +-Inf clamp to its ends, NaN decodes as 0
    const odd = new Float32Array([NaN, Infinity, -Infinity, 2, -1, 0]);
    // dims [6, 1]: one channel for int8-ch, so both see the same range
    const decoded = c.decode(c.encode(odd, [6, 1]), [6, 1]);
    t.equal(decoded[0], 0, `${c.name} NaN -> 0`);
    t.ok(Math.abs(decoded[1]! - 2) < 0.01 && Math.abs(decoded[2]! + 1) < 0.01, `${c.name} Inf -> range ends: ${decoded[1]}, ${decoded[2]}`);
    t.equal(decoded[5], 0, `${c.name} 0 is exact`);
  }
  const f = f16.decode(f16.encode(new Float32Array([NaN, Infinity, -Infinity, 1e6]), [4]), [4]);
  t.ok(Number.isNaN(f[0]!) && f[1] === Infinity && f[2] === -Infinity && f[3] === Infinity, 'f16 keeps NaN and Inf; overflow to Inf');
  t.equal(f16.decode(f16.encode(new Float32Array(0), [0]), [0]).length, 0, 'f16 empty');
});

t.test('quantizer + lz4 or zstd: same values as the quantizer alone, fewer bytes on ReLU outputs', async (t) => {
  const tensors = await activations('mobilenet', 3, [32, 32, 3]);
  for (const [chain, alone] of [['int8+lz4', int8], ['f16+lz4', f16], ['int8+zstd', int8], ['f16+zstd', f16]] as const) {
    for (const a of tensors) {
      const e = codec(chain).encode(a.values, a.dims);
      t.same(codec(chain).decode(e, a.dims), alone.decode(alone.encode(a.values, a.dims), a.dims), `${chain} at ${a.layer} decodes as ${alone.name}`);
      t.ok(e.payload.byteLength < a.values.byteLength / alone.bytesPerElement! * 1.01, `${chain} at ${a.layer}: ${e.payload.byteLength} bytes`);
      t.same([e.scale, e.zeroPoint], [alone.encode(a.values, a.dims).scale, alone.encode(a.values, a.dims).zeroPoint], `${chain}: the quantizer's scale and zero point`);
    }
  }
});

t.test('parseCodecList: names in order, once each; unknown names are one-line UserErrors listing the known ones', async (t) => {
  t.same(parseCodecList('f32,f16,int8+lz4').map((c) => c.name), ['f32', 'f16', 'int8+lz4']);
  t.same(parseCodecList(' F16 , f16,int8-ch').map((c) => c.name), ['f16', 'int8-ch']);
  t.same(parseCodecList('f32,f16,int8,int8-ch,lz4,deflate,brotli,f16+lz4,int8+lz4,zstd,f16+zstd,int8+zstd').map((c) => c.id), [0, 1, 2, 3, 4, 5, 6, 7, 8, 13, 14, 15]);
  for (const [spec, what] of [['f32,snappy', "unknown codec 'snappy'"], ['f32,,f16', "an empty codec name in 'f32,,f16'"], ['', "an empty codec name in ''"]]) {
    try {
      parseCodecList(spec);
      t.fail(`'${spec}' was accepted`);
    } catch (e) {
      t.ok(isUserError(e), 'a UserError (exit 2)');
      t.equal((e as Error).message, `--codec: ${what}; known codecs: f32, f16, int8, int8-ch, lz4, deflate, brotli, f16+lz4, int8+lz4, zstd, f16+zstd, int8+zstd`);
    }
  }
});
