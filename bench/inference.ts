/**
 * npm run bench:inference [-- --backends onnx,wasm --models vgg16,lenet --reps 5 --threads 2]
 * Per zoo model and backend: build time, full predict median, and the overhead of split execution
 * (edge(k) + cloud(k), including reading the crossing tensor back and uploading it again) against
 * the full model, for a few evenly spread inner points. Prints one JSON line per (model, backend),
 * with the threads the backend computes on (onnx: --threads, default the CPUs available; wasm
 * and cpu: 1; tensorflow: null, TensorFlow sizes its own pool).
 */
import { parseArgs } from 'node:util';
import { parseThreads, selectBackend, type BackendName } from '../src/engine/backend.js';
import { disposeNetwork } from '../src/model/network.js';
import { loadNetwork } from '../src/engine/load-network.js';
import { createSplitRunner, benchmarkInput } from '../src/engine/split-runner.js';
import { ZOO } from '../models/index.js';
import { median } from '../src/analysis/stats.js';

const { values } = parseArgs({
  options: {
    backends: { type: 'string', default: 'onnx,tensorflow,wasm,cpu' },
    threads: { type: 'string' },
    models: { type: 'string', default: ZOO.map((e) => e.name).join(',') },
    reps: { type: 'string', default: '5' },
    points: { type: 'string', default: '3' },
    // the plain JS backend needs minutes for VGG: skip a model once one predict takes longer
    'max-predict-s': { type: 'string', default: '20' },
  },
});
const reps = Number(values.reps);
const nPoints = Number(values.points);
const maxPredictMs = Number(values['max-predict-s']) * 1000;

for (const backend of values.backends!.split(',') as BackendName[]) {
  let threads: number | null;
  try {
    const info = await selectBackend(backend, { threads: values.threads ? parseThreads(values.threads) : undefined });
    threads = info.threads ?? (backend === 'tensorflow' ? null : 1);
  } catch (e) {
    console.log(JSON.stringify({ backend, skipped: (e as Error).message }));
    continue;
  }
  for (const name of values.models!.split(',')) {
    const network = await loadNetwork(name, { seed: 1 });
    const runner = createSplitRunner(network);
    const x = benchmarkInput(network.inputShape, 1);
    const first = (await runner.full(x)).ms; // warm-up (kernel setup, wasm memory growth)
    if (first > maxPredictMs) {
      console.log(JSON.stringify({ model: name, backend, threads, build_ms: Math.round(network.buildMs), skipped: `one predict took ${(first / 1000).toFixed(1)} s` }));
      await runner.dispose();
      disposeNetwork(network);
      continue;
    }
    const inner = network.cuts.filter((c) => c.kind === 'inner');
    const picked = Array.from({ length: Math.min(nPoints, inner.length) }, (_, i) => inner[Math.floor(((i + 0.5) * inner.length) / nPoints)]!);
    // full and split runs alternate, so drifts of a shared machine hit both alike
    const fullTimes: number[] = [];
    const splits = [];
    for (const cut of picked) {
      const split = async () => {
        const e = await runner.edge(cut, x);
        return e.ms + (await runner.cloud(cut, e.value)).ms;
      };
      await split(); // warm-up of this point's halves
      const pairs: { f: number; s: number }[] = [];
      for (let i = 0; i < reps; i++) {
        const f = (await runner.full(x)).ms;
        fullTimes.push(f);
        pairs.push({ f, s: await split() });
      }
      const ratio = median(pairs.map((p) => p.s / p.f));
      splits.push({ cut: cut.layer, bytes: cut.bytes, split_ms: round(median(pairs.map((p) => p.s))), overhead: round(ratio - 1, 3) });
    }
    const full = median(fullTimes);
    console.log(
      JSON.stringify({ model: name, backend, threads, build_ms: Math.round(network.buildMs), full_ms: round(full), points: network.cuts.length, splits }),
    );
    await runner.dispose();
    disposeNetwork(network);
  }
}

function round(v: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
