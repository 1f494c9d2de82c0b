/**
 * npm run bench:onnx-load [-- --model FILE] [--reps 7] [--against OTHER_DIST]
 * Time and memory to load a ~100 MB ONNX model, each load in a fresh process:
 *   decode   -- loadOnnxModel: read, decode, check, analyse the graph (no ONNX Runtime)
 *   network  -- loadNetwork: the above plus ONNX Runtime's probe of every point's shape
 *   halves   -- decode, then the two sub-models of the middle point encoded to bytes (what dnn-cut writes)
 * Each prints the median wall time and the medians of peak RSS and of the growth of V8's external
 * and arrayBuffers memory while the model is held. Without --model it writes a synthetic MLP
 * (6 MatMul layers of 2048x2048 float weights, 101 MB) once into the OS temp dir.
 * --only decode|network|halves runs that one alone. --against runs the same children from another build's dist (e.g. one of main) interleaved with
 * this one, so both meet the same load of a shared machine.
 */
import { execa } from 'execa';
import { existsSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { median } from '../src/analysis/stats.js';

const HERE = fileURLToPath(import.meta.url);
const KINDS = ['decode', 'network', 'halves'] as const;
type Kind = (typeof KINDS)[number];

interface Sample {
  ms: number;
  maxRssMB: number;
  externalMB: number;
  arrayBuffersMB: number;
}

const { values } = parseArgs({
  options: {
    model: { type: 'string' },
    reps: { type: 'string', default: '7' },
    against: { type: 'string' },
    child: { type: 'string' },
    only: { type: 'string' },
  },
});

const MB = 2 ** 20;

if (values.child) {
  console.log(JSON.stringify(await child(values.child as Kind, values.model!)));
  process.exit(0);
}

const file = values.model ?? (await syntheticModel());
const dists = [path.resolve(path.dirname(HERE), '..'), ...(values.against ? [path.resolve(values.against)] : [])];
const reps = Number(values.reps);
const samples = new Map<string, Sample[]>();
for (let r = 0; r < reps; r++) {
  for (const kind of KINDS.filter((k) => !values.only || k === values.only)) {
    for (const dist of dists) {
      const out = await execa(process.execPath, ['--expose-gc', path.join(dist, 'bench/onnx-load.js'), '--child', kind, '--model', file]);
      const key = `${kind} ${dist}`;
      samples.set(key, [...(samples.get(key) ?? []), JSON.parse(out.stdout.trim().split('\n').at(-1)!) as Sample]);
    }
  }
}
console.log(`model ${file} (${(await import('node:fs')).statSync(file).size / MB | 0} MB), ${reps} fresh processes each, medians`);
for (const [key, s] of samples) {
  const m = (f: (x: Sample) => number) => median(s.map(f)).toFixed(1);
  const range = (f: (x: Sample) => number) => `${Math.min(...s.map(f)).toFixed(0)}-${Math.max(...s.map(f)).toFixed(0)}`;
  console.log(`${key.padEnd(50)} ${m((x) => x.ms).padStart(7)} ms (${range((x) => x.ms)})  peak RSS ${m((x) => x.maxRssMB).padStart(6)} MB (${range((x) => x.maxRssMB)})  external +${m((x) => x.externalMB)} MB  arrayBuffers +${m((x) => x.arrayBuffersMB)} MB`);
}

/** One load in this process; the model stays referenced until memory is read. */
async function child(kind: Kind, model: string): Promise<Sample> {
  const { loadOnnxModel, extractModel, modelInput, modelOutput } = await import('../src/model/onnx/onnx-model.js');
  const { loadNetwork } = await import('../src/engine/load-network.js');
  const { encodeModel, floatValue } = await import('../src/model/onnx/onnx-codec.js');
  if (kind === 'network') await (await import('../src/engine/onnx-runtime.js')).loadOnnxRuntime();
  globalThis.gc?.();
  const before = process.memoryUsage();
  const t0 = performance.now();
  let held: unknown;
  if (kind === 'decode') held = await loadOnnxModel(model);
  else if (kind === 'network') held = await loadNetwork(model, { seed: 1 });
  else {
    const m = await loadOnnxModel(model);
    const mid = m.points[Math.floor(m.points.length / 2)]!;
    const crossing = floatValue(mid, undefined);
    held = [m, encodeModel(extractModel(m, modelInput(m), crossing, 'edge')), encodeModel(extractModel(m, crossing, modelOutput(m), 'cloud'))];
  }
  const ms = performance.now() - t0;
  const after = process.memoryUsage();
  if (!held) throw new Error('nothing loaded');
  return {
    ms,
    maxRssMB: process.resourceUsage().maxRSS / 1024,
    externalMB: (after.external - before.external) / MB,
    arrayBuffersMB: (after.arrayBuffers - before.arrayBuffers) / MB,
  };
}

/** A 101 MB MLP written through the project's own ONNX writer (once; reused after). */
async function syntheticModel(): Promise<string> {
  const out = path.join(os.tmpdir(), 'dnn-onnx-load-mlp-2048x6.onnx');
  if (existsSync(out)) return out;
  const { encodeModel, floatTensor, floatValue, ModelProtoSchema } = await import('../src/model/onnx/onnx-codec.js');
  const { create } = await import('@bufbuild/protobuf');
  const W = 2048;
  const LAYERS = 6;
  const weights = (seed: number, n: number) => {
    const f = new Float32Array(n);
    for (let i = 0; i < n; i++) f[i] = Math.sin(seed * 7919 + i) / W;
    return new Uint8Array(f.buffer);
  };
  const node = [];
  const initializer = [];
  let x = 'x';
  for (let l = 0; l < LAYERS; l++) {
    initializer.push(floatTensor(`w${l}`, [W, W], weights(l, W * W)));
    initializer.push(floatTensor(`b${l}`, [W], weights(l + 100, W)));
    node.push({ input: [x, `w${l}`], output: [`mm${l}`], opType: 'MatMul', name: `mm${l}` });
    node.push({ input: [`mm${l}`, `b${l}`], output: [`add${l}`], opType: 'Add', name: `add${l}` });
    node.push({ input: [`add${l}`], output: [`relu${l}`], opType: 'Relu', name: `relu${l}` });
    x = `relu${l}`;
  }
  const bytes = encodeModel(create(ModelProtoSchema, {
    irVersion: 8n,
    opsetImport: [{ domain: '', version: 13n }],
    producerName: 'dnn-partition-bench bench/onnx-load',
    graph: { name: 'mlp', node, initializer, input: [floatValue('x', [1, W])], output: [floatValue(x, [1, W])] },
  }));
  writeFileSync(out, bytes);
  return out;
}
