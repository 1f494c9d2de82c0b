/**
 * Input encodings on the shipped photographs (models/images/), at 224x224 and 299x299: per codec
 * the median per-frame time of encoding a camera frame (edge) and of decoding it back to RGB
 * (cloud), plus preprocessing to the network's float32 tensor (toTensor, NHWC 'tf'), and the one-off
 * decode + resize of a photo from its file (what a camera configured for the model saves us; untimed
 * in runs). Bytes per frame for each photo. Medians of BENCH_REPS (default 9) after 2 warm-up runs.
 *   npm run bench:inputs        (env: BENCH_REPS)
 */
import { performance } from 'node:perf_hooks';
import os from 'node:os';
import sharp from 'sharp';
import { median } from '../src/analysis/stats.js';
import { decodeFrame, encodeFrame, loadFrames, parseInputCodecList, parseInputs, toTensor, type Frame } from '../src/inputs/index.js';

const REPS = Number(process.env['BENCH_REPS'] ?? 9);
const WARMUP = 2;
const CODECS = parseInputCodecList('u8,jpeg:90,png,webp:80');
const SIZES = [224, 299];

async function timeMs(fn: () => Promise<unknown> | unknown): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

/** Median ms of `fn` over REPS runs after WARMUP. */
async function medianMs(fn: () => Promise<unknown> | unknown): Promise<number> {
  const ms: number[] = [];
  for (let r = 0; r < WARMUP + REPS; r++) {
    const t = await timeMs(fn);
    if (r >= WARMUP) ms.push(t);
  }
  return median(ms);
}

const fmt = (ms: number): string => ms.toFixed(ms < 1 ? 3 : 2);
const spec = parseInputs(undefined);
if (spec.kind !== 'images') throw new Error('the default inputs are photos');
const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
console.log(`# input encodings on the ${spec.paths.length} shipped photos (sharp ${sharp.versions.sharp}, libvips ${sharp.versions.vips}, ${sharp.concurrency()} libvips threads, node ${process.version}, ${os.cpus().length}x ${cpu}, ${REPS} reps, ${new Date().toISOString().slice(0, 10)})`);

const bytes = new Map<string, number[]>(); // `${size} ${label}` -> bytes per photo
for (const side of SIZES) {
  const size = { height: side, width: side };
  const load: number[] = [];
  const frames: Frame[] = [];
  for (const file of spec.paths) {
    load.push(await medianMs(() => loadFrames({ kind: 'images', paths: [file] }, size)));
    frames.push((await loadFrames({ kind: 'images', paths: [file] }, size))[0]!);
  }
  const tensor = new Float32Array(side * side * 3);
  const preMs: number[] = [];
  for (const f of frames) preMs.push(await medianMs(() => toTensor(f, { mode: 'tf', layout: 'nhwc', channels: 3, why: 'bench' }, tensor)));
  const pre = median(preMs);
  console.log(`\n## ${side}x${side}: decode + resize from the file ${fmt(median(load))} ms per photo (median of the photos' medians; range ${fmt(Math.min(...load))}-${fmt(Math.max(...load))}); preprocess to float32 (toTensor) ${fmt(pre)} ms`);
  console.log('| codec | encode ms | decode ms | bytes per frame (min-max) | mean bytes | ratio to f32 |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
  const f32 = side * side * 3 * 4;
  for (const codec of CODECS) {
    const enc: number[] = [];
    const dec: number[] = [];
    const sizes: number[] = [];
    for (const f of frames) {
      const encoded = await encodeFrame(f, codec);
      sizes.push(encoded.length);
      enc.push(await medianMs(() => encodeFrame(f, codec)));
      dec.push(await medianMs(() => decodeFrame(encoded, codec, size)));
    }
    bytes.set(`${side} ${codec.label}`, sizes);
    const mean = sizes.reduce((a, b) => a + b, 0) / sizes.length;
    console.log(`| ${codec.label} | ${fmt(median(enc))} | ${fmt(median(dec))} | ${Math.min(...sizes)}-${Math.max(...sizes)} | ${Math.round(mean)} | ${(mean / f32).toFixed(4)} (${(f32 / mean).toFixed(0)}x fewer) |`);
  }
  console.log(`| f32 (preprocessed tensor) | - | - | ${f32} | ${f32} | 1 |`);
}

console.log('\n## bytes per frame, each photo');
const names = spec.paths.map((p) => p.split('/').at(-1)!);
const columns = SIZES.flatMap((s) => CODECS.filter((c) => c.name !== 'u8').map((c) => `${s} ${c.label}`));
console.log(`| photo | ${columns.join(' | ')} |`);
console.log(`| --- | ${columns.map(() => '---:').join(' | ')} |`);
names.forEach((n, i) => console.log(`| ${n} | ${columns.map((c) => bytes.get(c)![i]).join(' | ')} |`));
