/**
 * Tensor codecs on real activations: mobilenet's edge-half outputs (seeded weights, seeded benchmark
 * input, 224x224) at a few partition points, ReLU outputs among them. Per (point, codec): payload
 * bytes and their ratio to f32, encode and decode time per frame (median of BENCH_REPS, default 9,
 * after 2 warm-up runs), and the max abs error of the decoded values. Prints a markdown table.
 *   npm run bench:codecs        (env: BENCH_REPS)
 */
import { performance } from 'node:perf_hooks';
import { median } from '../src/analysis/stats.js';
import { CODECS } from '../src/codecs/index.js';
import { selectBackend } from '../src/engine/backend.js';
import { activations } from '../test/helpers/activations.js';

const POINTS = ['conv_pw_1_relu', 'conv_pw_3_relu', 'conv_pw_5_relu', 'conv_pw_11_relu', 'conv_pw_13_relu'];
const REPS = Number(process.env['BENCH_REPS'] ?? 9);
const WARMUP = 2;

function timeMs(fn: () => void): number {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
}

const backend = await selectBackend('auto', { threads: 1 });
const tensors = await activations('mobilenet', POINTS);
console.log(`# codecs on mobilenet activations (backend ${backend.name}, node ${process.version}, ${REPS} reps, ${new Date().toISOString().slice(0, 10)})`);
console.log('| point | shape | zeros | codec | bytes | ratio to f32 | encode ms | decode ms | max abs error |');
console.log('| --- | --- | ---: | --- | ---: | ---: | ---: | ---: | ---: |');
for (const a of tensors) {
  const zeros = a.values.reduce((n, v) => n + (v === 0 ? 1 : 0), 0) / a.values.length;
  for (const codec of CODECS.values()) {
    const enc: number[] = [];
    const dec: number[] = [];
    let encoded = codec.encode(a.values, a.dims);
    let back = codec.decode(encoded, a.dims);
    for (let r = 0; r < WARMUP + REPS; r++) {
      const e = timeMs(() => (encoded = codec.encode(a.values, a.dims)));
      const d = timeMs(() => (back = codec.decode(encoded, a.dims)));
      if (r >= WARMUP) {
        enc.push(e);
        dec.push(d);
      }
    }
    let maxAbs = 0;
    for (let i = 0; i < back.length; i++) maxAbs = Math.max(maxAbs, Math.abs(back[i]! - a.values[i]!));
    const bytes = encoded.payload.byteLength + encoded.params.byteLength;
    console.log(
      `| ${a.layer} | ${a.dims.slice(1).join('x')} | ${(100 * zeros).toFixed(0)} % | ${codec.name} | ${bytes} | ${(bytes / a.values.byteLength).toFixed(3)} | ${median(enc).toFixed(2)} | ${median(dec).toFixed(2)} | ${maxAbs.toPrecision(3)} |`,
    );
  }
}
