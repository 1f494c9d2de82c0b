/**
 * npm run bench:memory [-- vgg16] [--backend onnx] [--threads N]
 * Starts a real dnn-cloud (every cloud half built and warmed up) and prints its resident memory next
 * to the byte size of the network's weights and to the RSS of a process that holds only the full
 * model after one inference. TF.js halves share the model's weights, so they should add next to
 * nothing; ONNX Runtime sessions do not share, so the cloud keeps a bounded set of them: its RSS
 * must stay under 2x the weight bytes whatever the number of points.
 */
import { execa } from 'execa';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import tf from '../src/tfjs.cjs';
import { ZOO } from '../models/index.js';
import { parseBackendChoice, parseThreads, selectBackend } from '../src/engine/backend.js';
import { loadNetwork } from '../src/engine/load-network.js';
import { createSplitRunner, benchmarkInput } from '../src/engine/split-runner.js';

const HERE = fileURLToPath(import.meta.url);
const ROOT = path.resolve(path.dirname(HERE), '../..');
const rssOf = (pid: number | 'self', key = 'VmRSS') => Number(new RegExp(`${key}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) * 1024;

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { backend: { type: 'string', default: 'auto' }, threads: { type: 'string' }, 'full-model-only': { type: 'boolean' } },
});
const backend = parseBackendChoice(values.backend!);
const threads = values.threads ? parseThreads(values.threads) : undefined;
const backendArgs = ['--backend', backend, ...(threads ? ['--threads', String(threads)] : [])];

if (values['full-model-only']) {
  // the reference: one process, the full model, one inference (the backend's own caches included)
  await selectBackend(backend, { threads });
  const n = await loadNetwork(positionals[0]!, { seed: 1 });
  await createSplitRunner(n).full(benchmarkInput(n.inputShape, 1));
  console.log(JSON.stringify({ rss: rssOf('self'), tensor_bytes: tf.memory().numBytes }));
  process.exit(0);
}

const network = positionals[0] ?? 'vgg16';
const entry = ZOO.find((e) => e.name === network);
if (!entry) {
  console.error(`bench:memory: unknown zoo network '${network}'`);
  process.exit(2);
}

const single = JSON.parse(String((await execa(process.execPath, [HERE, '--full-model-only', network, ...backendArgs])).stdout)) as { rss: number; tensor_bytes: number };

const cloud = execa(path.join(ROOT, 'bin/dnn-cloud'), [network, '--host', '127.0.0.1', '--port', '0', ...backendArgs], { reject: false, stdin: 'ignore' });
let log = '';
await new Promise<void>((resolve, reject) => {
  cloud.stderr!.on('data', (d: Buffer) => {
    log += d.toString();
    if (/listening on/.test(log)) resolve();
  });
  void cloud.then(() => reject(new Error(`dnn-cloud exited:\n${log}`)));
});
const weights = entry.params * 4;
const rss = rssOf(cloud.pid!);
console.log(
  JSON.stringify({
    network,
    backend: /backend: (\w+)/.exec(log)?.[1],
    points: Number(/(\d+) partition points/.exec(log)?.[1]),
    weights_bytes: weights,
    tensor_bytes_full_model: single.tensor_bytes,
    rss_full_model_one_inference: single.rss,
    rss_cloud_all_halves: rss,
    rss_cloud_peak: rssOf(cloud.pid!, 'VmHWM'),
    halves_over_full_model: Math.round((rss / single.rss) * 1000) / 1000,
    cloud_over_weights: Math.round((rss / weights) * 1000) / 1000,
  }),
);
cloud.kill('SIGTERM');
await cloud;
