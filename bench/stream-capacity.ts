/**
 * Frames in flight against the pipeline's capacity (issue 20), in the lab, as root:
 *   sudo npm run bench:streams        (NET=50 POINTS=... SLOWDOWN=5 RATE=... to change)
 * 1. capacity: mobilenet at NET Mbit/s, `--scenario single` then `--scenario max` at the same points:
 *    measured frames/s against 1/max(edge, transfer, cloud) from the single run's p50s (target: within 15 %);
 * 2. the same with --edge-slowdown SLOWDOWN: the best point for latency (single, p50 total) and for
 *    frames/s (max) side by side;
 * 3. `--scenario stream:R` at the same points, R between the slowest and the fastest point's capacity:
 *    above a point's capacity C the drop fraction against 1 - C/R (target: within 10 %) and p99 bounded;
 *    below it no drops.
 * Each figure comes from one lab run (a run per scenario); the CPUs may be shared: the ratios are what counts.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readResultsFile, type ResultsFile } from '../src/results/log-reader.js';
import type { AnyMetric } from '../src/results/tags.js';

const EDGE = fileURLToPath(new URL('../../bin/dnn-edge', import.meta.url));
const NET = process.env.NET ?? '50';
const POINTS = process.env.POINTS ?? 'input_1,conv_dw_4_relu,conv_dw_6_relu,conv_dw_12_relu,global_average_pooling2d_1,act_softmax';
const SLOWDOWN = process.env.SLOWDOWN ?? '5';
const NO_STRESS = ['--edge-cpu', '0', '--edge-mem', '0', '--cloud-cpu', '0', '--cloud-mem', '0'];

if (process.getuid?.() !== 0) {
  console.error('bench:streams runs the lab (namespaces, tc, cgroups): run it as root');
  process.exit(2);
}

/** One lab run of dnn-edge; its results file. */
function run(name: string, args: string[]): ResultsFile {
  const out = mkdtempSync(path.join(tmpdir(), `dnn-streams-${name}-`));
  const argv = ['lab', 'mobilenet', '--cuts', POINTS, '--net', NET, ...NO_STRESS, '--reference-every', '0', '--out', out, ...args];
  console.error(`\n$ dnn-edge ${argv.join(' ')}`);
  execFileSync(EDGE, argv, { stdio: ['ignore', 'ignore', 'inherit'] });
  const file = readdirSync(out).find((f) => f.endsWith('.hdr'))!;
  return readResultsFile(path.join(out, file));
}

const p50 = (f: ResultsFile, cut: string, metric: AnyMetric) => (f.cells.find((c) => c.tag.cut === cut && c.tag.metric === metric)?.histogram.getValueAtPercentile(50) ?? 0) / 1000;
const p99 = (f: ResultsFile, cut: string) => (f.cells.find((c) => c.tag.cut === cut && c.tag.metric === 'total')?.histogram.getValueAtPercentile(99) ?? NaN) / 1000;
const stream = (f: ResultsFile, cut: string) => f.streams.find((s) => s.cell.includes(`;cut=${cut};`))!;
const cuts = (f: ResultsFile) => [...new Set(f.cells.map((c) => c.tag.cut))];

/** The single run's stages per point (p50, ms; encoding on the edge's side, decoding on the cloud's) and the capacity they predict. */
function stages(single: ResultsFile, cut: string) {
  const edge = p50(single, cut, 'edge') + p50(single, cut, 'encode');
  const transfer = p50(single, cut, 'transfer');
  const cloud = p50(single, cut, 'cloud') + p50(single, cut, 'decode');
  return { edge, transfer, cloud, total: p50(single, cut, 'total'), predicted: 1000 / Math.max(edge, transfer, cloud) };
}

function capacityTable(title: string, single: ResultsFile, max: ResultsFile): Map<string, number> {
  console.log(`\n${title}`);
  console.log('point                        edge  transfer  cloud  total(single)  predicted fps  measured fps  ratio');
  const capacity = new Map<string, number>();
  let best = { lat: '', latMs: Infinity, fps: '', fpsV: 0 };
  for (const cut of cuts(single)) {
    const s = stages(single, cut);
    const m = stream(max, cut);
    capacity.set(cut, m.fps);
    if (s.total < best.latMs) best = { ...best, lat: cut, latMs: s.total };
    if (m.fps > best.fpsV) best = { ...best, fps: cut, fpsV: m.fps };
    const f = (x: number) => x.toFixed(1).padStart(6);
    console.log(`${cut.padEnd(27)} ${f(s.edge)}  ${f(s.transfer)}  ${f(s.cloud)}  ${f(s.total).padStart(13)}  ${f(s.predicted).padStart(13)}  ${f(m.fps).padStart(12)}  ${(m.fps / s.predicted).toFixed(2).padStart(5)}`);
  }
  console.log(`best for latency: ${best.lat} (${best.latMs.toFixed(1)} ms p50); best for frames/s: ${best.fps} (${best.fpsV.toFixed(1)} frames/s)${best.lat === best.fps ? ': the same point' : ': they differ'}`);
  return capacity;
}

const single = run('single', ['--scenario', 'single', '--reps', process.env.REPS ?? '30', '--warmup', '3']);
const max = run('max', ['--scenario', 'max', '--reps', process.env.FRAMES ?? '200', '--warmup', '20']);
const capacity = capacityTable(`1. mobilenet at ${NET} Mbit/s: --scenario max against 1/max(edge, transfer, cloud) of --scenario single`, single, max);

const slowSingle = run('slow-single', ['--scenario', 'single', '--reps', process.env.REPS ?? '30', '--warmup', '3', '--edge-slowdown', SLOWDOWN]);
const slowMax = run('slow-max', ['--scenario', 'max', '--reps', process.env.FRAMES ?? '200', '--warmup', '20', '--edge-slowdown', SLOWDOWN]);
capacityTable(`2. the same with --edge-slowdown ${SLOWDOWN}`, slowSingle, slowMax);

// 3. a camera between the slowest and the fastest point's capacity: above it at some points, below at others
const caps = [...capacity.values()].sort((a, b) => a - b);
const rate = Number(process.env.RATE ?? Math.round(Math.sqrt(caps[0]! * caps.at(-1)!)));
const cam = run('stream', ['--scenario', `stream:${rate}`, '--reps', process.env.CAMERA_FRAMES ?? '300', '--warmup', '20']);
console.log(`\n3. --scenario stream:${rate} (capacity from run 1's max)`);
console.log('point                       capacity  dropped  expected (1 - C/R)  fps    p50 total  p99 total');
for (const cut of cuts(cam)) {
  const s = stream(cam, cut);
  const c = capacity.get(cut)!;
  const expected = Math.max(0, 1 - c / rate);
  console.log(
    `${cut.padEnd(27)} ${c.toFixed(1).padStart(8)}  ${((100 * s.dropped) / s.offered).toFixed(1).padStart(6)} %  ${(100 * expected).toFixed(1).padStart(16)} %  ${s.fps.toFixed(1).padStart(5)}  ${p50(cam, cut, 'total').toFixed(1).padStart(9)}  ${p99(cam, cut).toFixed(1).padStart(9)}`,
  );
}
