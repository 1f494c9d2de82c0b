/**
 * Two networks' full predicts on ONNX Runtime, alternated run by run in one process, so both meet
 * the same machine: e.g. the zoo's MobileNetV2 against PyTorch's own export of it (issue 8's goal:
 * the zoo's conversion within 1.2x of what ONNX Runtime does with the PyTorch export). Prints one
 * JSON line: each network's median ms and the ratio of the first to the second.
 *   npm run build && node dist/bench/onnx-pair.js [mobilenetv2 ../shared/fixtures/onnx/mobilenet_v2.onnx] [--reps 50] [--threads 2]
 * Measured separately (bench:inference, one model after the other) the ratio moved with the load
 * of the moment by more than the difference looked for (1.34x one run, 1.02x alternated).
 */
import { parseArgs } from 'node:util';
import { parseThreads, selectBackend } from '../src/engine/backend.js';
import { loadNetwork } from '../src/engine/load-network.js';
import { benchmarkInput, createSplitRunner } from '../src/engine/split-runner.js';
import { median } from '../src/analysis/stats.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { reps: { type: 'string', default: '50' }, threads: { type: 'string' } },
});
const [a = 'mobilenetv2', b = '../shared/fixtures/onnx/mobilenet_v2.onnx'] = positionals;
const reps = Number(values.reps);
const info = await selectBackend('onnx', { threads: values.threads ? parseThreads(values.threads) : undefined });
const ends = await Promise.all(
  [a, b].map(async (name) => {
    const network = await loadNetwork(name, { seed: 1 });
    return { name, runner: createSplitRunner(network), x: benchmarkInput(network.inputShape, 1), ms: [] as number[] };
  }),
);
const WARMUP = 10;
for (let i = 0; i < WARMUP + reps; i++) {
  for (const e of ends) {
    const ms = (await e.runner.full(e.x)).ms;
    if (i >= WARMUP) e.ms.push(ms);
  }
}
const [ma, mb] = ends.map((e) => median(e.ms)) as [number, number];
console.log(JSON.stringify({ backend: 'onnx', threads: info.threads, reps, [a]: +ma.toFixed(2), [b]: +mb.toFixed(2), ratio: +(ma / mb).toFixed(3) }));
for (const e of ends) await e.runner.dispose();
