/**
 * Merge speed: a report over a full VGG16 study (243 conditions x 23 points x 4 metrics) merged
 * from 8 shard files, as `dnn-report results/*.hdr` does it, end to end (a new process each time,
 * so module loading counts), and in process with its CPU time (on a shared machine the wall time
 * says more about the neighbours). Also times `dnn-report --check` on the same files. Target: < 5 s.
 *   npm run bench:merge
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { planConditions } from '../src/edge/run-selection.js';
import { shardPlan } from '../src/edge/shard.js';
import { writeShardFiles } from '../test/helpers/shards.js';
import { median } from '../src/analysis/stats.js';
import { loadResultFiles } from '../src/analysis/load-results.js';
import { buildReport } from '../src/analysis/build-report.js';
import { formatTable } from '../src/report/format/table.js';

const CLI = fileURLToPath(new URL('../src/cli/report.js', import.meta.url));
const RUNS = Number(process.env.RUNS ?? 5);

const conditions = planConditions({ levels: {}, design: 'factorial', shape: true, quick: false });
const cuts = Array.from({ length: 23 }, (_, i) => `block${i}`);
const points = cuts.map((_, i) => ({ edgeMacs: 7e8 * i, cloudMacs: 7e8 * (22 - i), bytes: 602112 >> Math.min(i, 10) }));
const reps = 5;
const { partition } = shardPlan({ network: 'vgg16', fingerprint: 'test', conditions, cuts, reps, warmup: 1 }, points, 8);

const dir = mkdtempSync(path.join(tmpdir(), 'dnn-merge-bench-'));
try {
  const t0 = performance.now();
  const files = writeShardFiles(dir, { network: 'vgg16', conditions, cuts, reps, bounds: partition.bounds });
  const bytes = files.reduce((s, f) => s + statSync(f).size, 0);
  console.log(`${files.length} shard files, ${conditions.length} conditions x ${cuts.length} points x 4 metrics = ${conditions.length * cuts.length * 4} histograms, ${(bytes / 1e6).toFixed(1)} MB (written in ${((performance.now() - t0) / 1000).toFixed(1)} s)`);

  const time = (args: string[]) => {
    const ms: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const s = performance.now();
      try {
        execFileSync(process.execPath, [CLI, ...args], { stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 256 << 20 });
      } catch (e) {
        // --check exits 0 here (complete); anything else is a failure of the bench
        throw new Error(`dnn-report ${args.join(' ')} failed: ${String((e as { stderr?: Buffer }).stderr ?? e)}`);
      }
      ms.push(performance.now() - s);
    }
    return ms;
  };
  // In process too: CPU time is what this machine can do; wall time on a shared machine is not.
  const cpu: number[] = [];
  const wall: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const c0 = process.cpuUsage();
    const w0 = performance.now();
    formatTable(buildReport(loadResultFiles(files).networks, { metric: 'p50', minGain: 0.05 }));
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
    wall.push(performance.now() - w0);
  }
  console.log(`load + merge + analyse + table, in process: median CPU ${(median(cpu) / 1000).toFixed(2)} s, wall ${(median(wall) / 1000).toFixed(2)} s over ${RUNS} runs`);

  for (const [label, args] of [
    ['report (table)', files],
    ['report (json)', ['--format', 'json', ...files]],
    ['--check', ['--check', ...files]],
  ] as const) {
    const ms = time([...args]);
    console.log(`dnn-report ${label}: median ${(median(ms) / 1000).toFixed(2)} s over ${RUNS} runs (min ${(Math.min(...ms) / 1000).toFixed(2)}, max ${(Math.max(...ms) / 1000).toFixed(2)}); target < 5 s`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
