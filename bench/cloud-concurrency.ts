/**
 * npm run bench:concurrency [-- lenet] [--seconds 60] [--queue 32] [--concurrency 1] [--input-shape 96x96x3]
 *                           [--valid-only] [--cuts a,b,c] [--threads N]
 * A real dnn-cloud (onnx) under the crowd of test/cloud/many-clients.test.ts for longer: valid
 * pipelined streams, slow senders, a greedy sender overfilling the queue and malformed clients,
 * round after round. Prints the cloud's resident memory every second (and its peak, VmHWM, and
 * steady level, the median of the second half) with the requests served; every answer is checked
 * against the same cloud half computed here. `--valid-only`: the valid streams alone (requests/s at
 * saturation, e.g. to compare --concurrency 1 and 2).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { selectBackend } from '../src/engine/backend.js';
import { loadNetwork } from '../src/engine/load-network.js';
import { benchmarkInput } from '../src/engine/split-runner.js';
import { InferenceService } from '../src/cloud/inference-service.js';
import { runMix } from '../test/helpers/client-mix.js';
import { startCloud, stopCloud } from '../test/helpers/cloud-process.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    seconds: { type: 'string', default: '60' },
    queue: { type: 'string', default: '32' },
    concurrency: { type: 'string', default: '1' },
    'input-shape': { type: 'string' },
    'valid-only': { type: 'boolean' },
    cuts: { type: 'string' },
    threads: { type: 'string' },
  },
});
const network = positionals[0] ?? 'lenet';
const seconds = Number(values.seconds);
const shape = values['input-shape'] ? ['--input-shape', values['input-shape']] : [];
const threads = values.threads ? ['--threads', values.threads] : [];
const rssOf = (pid: number, key = 'VmRSS') => Number(new RegExp(`${key}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) * 1024;
const mb = (b: number) => Math.round(b / 1e5) / 10;
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return Math.round((s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN) * 1000) / 1000;
};

// the reference outputs, computed here by the same cloud half
await selectBackend('onnx', values.threads ? { threads: Number(values.threads) } : {});
const net = await loadNetwork(network, { seed: 1, ...(values['input-shape'] ? { inputShape: values['input-shape'].split('x').map(Number) } : {}) });
const service = new InferenceService(net);
const inner = net.cuts.filter((c) => c.kind === 'inner');
const cuts = values.cuts ? values.cuts.split(',').map((l) => net.cuts.find((c) => c.layer === l)!) : [inner[inner.length - 2]!, inner[Math.floor(inner.length / 2)]!, net.cuts[0]!];
const expected = new Map<string, Float32Array>();
for (const c of cuts) expected.set(c.layer, (await service.infer(c.layer, benchmarkInput(c.shape, 1))).value.data.slice());
await service.dispose();

const cloud = await startCloud(network, ['--backend', 'onnx', '--queue', values.queue!, '--concurrency', values.concurrency!, ...shape, ...threads]);
const pid = cloud.proc.pid!;
const rssAtStart = rssOf(pid);
const t0 = Date.now();
const samples: { t: number; rss: number }[] = [];
const sampler = setInterval(() => samples.push({ t: (Date.now() - t0) / 1000, rss: rssOf(pid) }), 250);
const only = values['valid-only'];
const counts = await runMix({
  port: cloud.port,
  network: net,
  expected,
  cuts,
  valid: 8,
  requests: 20,
  inFlight: 4,
  slow: only ? 0 : 3,
  malformed: only ? 0 : 4,
  greedyBurst: only ? 0 : 200,
  untilMs: t0 + seconds * 1000,
});
clearInterval(sampler);
const elapsed = (Date.now() - t0) / 1000;
const peak = rssOf(pid, 'VmHWM');
await stopCloud(cloud);

for (const s of samples.filter((_, i) => i % 4 === 0)) console.log(`t ${s.t.toFixed(1).padStart(5)} s  rss ${mb(s.rss).toFixed(1)} MB`);
const second = samples.slice(Math.floor(samples.length / 2)).map((s) => s.rss).sort((a, b) => a - b);
const served = counts.valid.answered + counts.slow.answered + counts.greedy.results;
const wrong = counts.valid.answered - counts.valid.correct + (counts.slow.answered - counts.slow.correct) + (counts.greedy.results - counts.greedy.correct);
console.log(
  JSON.stringify({
    network,
    cuts: cuts.map((c) => c.layer),
    queue: Number(values.queue),
    concurrency: Number(values.concurrency),
    seconds: Math.round(elapsed * 10) / 10,
    rss_mb: { at_listen: mb(rssAtStart), peak: mb(peak), steady_median: mb(second[Math.floor(second.length / 2)] ?? NaN), max_sampled: mb(Math.max(...samples.map((s) => s.rss))) },
    served,
    served_per_s: Math.round((served / elapsed) * 10) / 10,
    valid_per_s: Math.round((counts.valid.answered / elapsed) * 10) / 10,
    wrong,
    // each valid request's compute time (p50) and queue time (p50, p90), as the cloud reported them
    cloud_ms_p50: pct(counts.valid.cloudMs, 50),
    queue_ms: { p50: pct(counts.valid.queueMs, 50), p90: pct(counts.valid.queueMs, 90) },
    counts: { ...counts, valid: { answered: counts.valid.answered, correct: counts.valid.correct, queueFull: counts.valid.queueFull } },
  }),
);
if (wrong > 0 || counts.greedy.other > 0) process.exitCode = 1;
