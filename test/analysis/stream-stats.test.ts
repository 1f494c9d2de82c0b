// test-process: shared (pure: no backend, environment, signal handlers or children; see test/run-shared.ts)
// Pure statistics and the pipeline model of scenario runs (frames in flight): hand-built inputs, known answers.
import t from 'tap';
import { distributionFrom } from '../../src/analysis/significance.js';
import { LOADGEN_MIN_SAMPLES, fpsEstimate, fpsInterval, fpsTieSet, fpsWindows, quantileOf, shortPercentiles, sumEstimates, tQuantile, type FpsEstimate } from '../../src/analysis/stream-stats.js';
import { offeredRate, pipelineFps, sharedCloud } from '../../src/analysis/stream-model.js';

/** Completion times of `n` frames, one every `gap` ms, each moved by up to +-`jitter` ms (deterministic). */
function completions(n: number, gap: number, jitter = 0): number[] {
  return Array.from({ length: n }, (_, i) => i * gap + (i % 2 ? jitter : -jitter) * ((i % 7) / 7)).sort((a, b) => a - b);
}

t.test('quantiles of a distribution: the smallest value with at least q of the count at or below it', async (t) => {
  const d = distributionFrom(Array.from({ length: 100 }, (_, i) => i + 1));
  t.equal(quantileOf(d, 0.5), 50);
  t.equal(quantileOf(d, 0.9), 90);
  t.equal(quantileOf(d, 0.99), 99);
  t.equal(quantileOf(d, 1), 100);
  // counts: 90 values at 1 ms, 9 at 10 ms, 1 at 100 ms
  const tailed = { values: [1, 10, 100], counts: [90, 9, 1], n: 100 };
  t.equal(quantileOf(tailed, 0.9), 1);
  t.equal(quantileOf(tailed, 0.91), 10);
  t.equal(quantileOf(tailed, 0.99), 10);
  t.equal(quantileOf(tailed, 0.995), 100);
});

t.test("Student's t quantiles match the tables", async (t) => {
  const table: [number, number, number][] = [
    [0.975, 1, 12.706],
    [0.975, 2, 4.303],
    [0.975, 3, 3.182],
    [0.975, 5, 2.571],
    [0.975, 9, 2.262],
    [0.975, 30, 2.042],
    [0.995, 10, 3.169],
    [0.9975, 19, 3.174],
  ];
  for (const [p, df, want] of table) t.ok(Math.abs(tQuantile(p, df) / want - 1) < 0.003, `t(${p}, ${df}) = ${tQuantile(p, df).toFixed(4)} ~ ${want}`);
});

t.test('frames/s: windows of completions, the cell figure from its counts, an interval from the windows', async (t) => {
  // 101 frames 5 ms apart: 100 intervals over 500 ms -> 10 windows of 10 frames at 200 frames/s each
  const even = completions(101, 5);
  t.same(fpsWindows(even), new Array(10).fill(200));
  t.same(fpsWindows(completions(20, 5)), [], 'fewer than 2 windows of 10 frames: no windows');
  t.equal(fpsWindows(completions(1000, 1)).length, 20, 'at most 20 windows');

  const e = fpsEstimate(101, 505, [even]);
  t.equal(e.fps, 200, 'completed * 1000 / elapsed');
  t.equal(e.se, 0, 'evenly spaced: no spread');
  t.equal(e.df, 9);
  const noisy = fpsEstimate(201, 1005, [completions(201, 5, 2)]);
  t.ok(noisy.se! > 0, 'uneven completions spread the windows');
  const { low, high } = fpsInterval(noisy, 0.95);
  t.ok(low! < noisy.fps && noisy.fps < high!, 'the interval holds the figure');
  t.same(fpsInterval(fpsEstimate(10, 50, [completions(10, 5)]), 0.95), { low: null, high: null }, 'too few frames: unknown');

  // two measurements of one cell pool their windows
  t.equal(fpsEstimate(202, 1010, [even, even]).df, 19);
  // several edges: frames/s add up, errors in quadrature
  const sum = sumEstimates([{ fps: 100, se: 3, df: 9 }, { fps: 50, se: 4, df: 19 }]);
  t.same(sum, { fps: 150, se: 5, df: 9 });
  t.equal(sumEstimates([{ fps: 100, se: 3, df: 9 }, { fps: 50, se: null, df: 0 }]).se, null);
});

t.test('the tie set of the best frames/s: arms not significantly below it', async (t) => {
  const e = (fps: number, se: number | null): FpsEstimate => ({ fps, se, df: 19 });
  t.same(fpsTieSet(new Map([['a', e(100, 1)], ['b', e(200, 1)], ['c', e(199, 1)]]), 0.95), ['b', 'c']);
  t.same(fpsTieSet(new Map([['a', e(100, 1)], ['b', e(200, 1)], ['c', e(150, 1)]]), 0.95), ['b']);
  t.equal(fpsTieSet(new Map([['a', e(100, null)], ['b', e(200, 1)]]), 0.95), null, 'an arm without spread: unknown');
  t.same(fpsTieSet(new Map([['a', e(100, 0)], ['b', e(100, 0)]]), 0.95), ['a', 'b'], 'equal figures without spread tie');
});

t.test("MLPerf LoadGen's minimums: 64 samples for p90, 662 for p99", async (t) => {
  t.same(LOADGEN_MIN_SAMPLES, { p90: 64, p99: 662 });
  t.same(shortPercentiles(63), ['p90', 'p99']);
  t.same(shortPercentiles(64), ['p99']);
  t.same(shortPercentiles(661), ['p99']);
  t.same(shortPercentiles(662), []);
});

t.test('pipeline model: the slowest stage, or the in-flight window over the latency', async (t) => {
  t.same(pipelineFps({ edge: 2, transfer: 4, cloud: 5 }, 4), { fps: 200, bottleneck: 'cloud' });
  t.same(pipelineFps({ edge: 8, transfer: 4, cloud: 5 }, 4), { fps: 125, bottleneck: 'edge' });
  t.same(pipelineFps({ edge: 2, transfer: 5, cloud: 3 }, 1), { fps: 100, bottleneck: 'in-flight' }, 'one in flight: one frame per latency');
  t.same(pipelineFps({ edge: 0, transfer: 0, cloud: 0 }, 4).fps, Infinity);
});

t.test('shared cloud: utilisation, M/D/1 below saturation, the asymptotic bound above', async (t) => {
  const s = { edge: 10, transfer: 2, cloud: 4 };
  // one camera at 50 frames/s: rho 0.2, constant arrivals -> D/D/1, no wait
  t.same(sharedCloud(s, 1, 4, 50), { edges: 1, rho: 0.2, fps_per_edge: 50, fps_total: 50, queue_cloud_ms: 0, model: 'D/D/1' });
  // two cameras: rho 0.4, merged streams taken as Poisson: M/D/1 wait 0.4 * 4 / (2 * 0.6)
  const two = sharedCloud(s, 2, 4, 50);
  t.equal(two.model, 'M/D/1');
  t.ok(Math.abs(two.queue_cloud_ms - (0.4 * 4) / 1.2) < 1e-9);
  t.equal(sharedCloud(s, 1, 4, 50, true).model, 'M/D/1', 'a server (Poisson arrivals) waits even alone');
  // max: each edge alone gives 100 frames/s (edge-bound); 3 edges would need 1.2 clouds -> saturated at 250 frames/s in all
  const max3 = sharedCloud(s, 3, 4, null);
  t.equal(max3.model, 'saturated');
  t.equal(max3.fps_total, 250);
  t.ok(Math.abs(max3.fps_per_edge - 250 / 3) < 1e-9);
  t.equal(max3.queue_cloud_ms, 3 * 4 * 4 - 16, 'N K cloud - (edge + transfer + cloud)');
  t.equal(sharedCloud(s, 2, 4, null).model, 'M/D/1', 'two edges: rho 0.8');
  t.equal(offeredRate('stream:15'), 15);
  t.equal(offeredRate('server:2.5'), 2.5);
  t.equal(offeredRate('max'), null);
});
