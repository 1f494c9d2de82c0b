/**
 * The figure of `dnn-edge lab NET --edges N` (issue 20, "many edges, one cloud"): for each results
 * file given (one per N, scenario cells), per point: frames/s per edge and summed over the edges,
 * the median over the edges of the p50 total latency, of the cloud's queueing (RESULT queue time)
 * and of its compute; then the best point for frames/s (summed) and for latency (p50 total).
 * Usage: node dist/bench/lab-edges.js FILE...   (figures: docs/benchmarks.md, 2026-12-04)
 */
import { readResultsFile } from '../src/results/log-reader.js';
import { median } from '../src/analysis/stats.js';

interface Row {
  arm: string;
  fps: number[];
  total: number[];
  queue: number[];
  cloud: number[];
}

const ms = (us: number) => (us / 1000).toFixed(1);

for (const file of process.argv.slice(2)) {
  const r = readResultsFile(file);
  const n = r.meta?.edges ?? 1;
  const rows = new Map<string, Row>();
  const arm = (t: { cut: string; codec?: string }) => (t.codec ? `${t.cut}@${t.codec}` : t.cut);
  const row = (a: string) => rows.get(a) ?? rows.set(a, { arm: a, fps: [], total: [], queue: [], cloud: [] }).get(a)!;
  for (const s of r.streams) row(/;cut=([^;]+)(?:;codec=([^;]+))?/.exec(s.cell)!.slice(1).filter(Boolean).join('@')).fps.push(s.fps);
  for (const c of r.cells) {
    const p50 = c.histogram.getValueAtPercentile(50);
    if (c.tag.metric === 'total') row(arm(c.tag)).total.push(p50);
    if (c.tag.metric === 'queue_cloud') row(arm(c.tag)).queue.push(p50);
    if (c.tag.metric === 'cloud') row(arm(c.tag)).cloud.push(p50);
  }
  console.log(`\n${file}: ${n} edge${n > 1 ? 's' : ''}, scenario ${r.meta?.scenario ?? 'single'}`);
  console.log('point                         fps/edge (each)          fps summed  p50 total  cloud queue p50  cloud compute p50  (ms, median over edges)');
  const all = [...rows.values()];
  for (const x of all) {
    const sum = x.fps.reduce((a, b) => a + b, 0);
    console.log(`${x.arm.padEnd(30)}${x.fps.map((f) => f.toFixed(1)).join(', ').padEnd(25)}${sum.toFixed(1).padStart(10)}${ms(median(x.total)).padStart(11)}${ms(median(x.queue)).padStart(17)}${ms(median(x.cloud)).padStart(19)}`);
  }
  const byFps = all.reduce((a, b) => (b.fps.reduce((s, f) => s + f, 0) > a.fps.reduce((s, f) => s + f, 0) ? b : a));
  const byLatency = all.reduce((a, b) => (median(b.total) < median(a.total) ? b : a));
  console.log(`best for frames/s: ${byFps.arm}; best for p50 latency: ${byLatency.arm}`);
}
