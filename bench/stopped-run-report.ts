/**
 * The report's adaptive figures for a run stopped before its last slot (interleaved replay): the
 * run writes each turn's `#dnn-request` lines as the turn ends, but a policy's histograms only
 * after its last turn, and dnn-report leaves policies without histograms out. Here each policy's
 * total histogram is rebuilt from its request lines (their total_ms, in µs as the run records
 * it) and the report's own summary (summarizeAdaptive: means, hindsight best, paired bootstrap over
 * windows) runs on them; on a complete file it gives the report's figures. Prints the JSON of
 * `adaptive[]` as `dnn-report --format json` does, timelines left out:
 *   npx tsc -p . && node dist/bench/stopped-run-report.js FILE.hdr
 */
import { readFileSync } from 'node:fs';
import { build } from 'hdr-histogram-js';
import { summarizeAdaptive } from '../src/analysis/policy-runs.js';
import type { PolicyRun } from '../src/results/log-reader.js';

const path = process.argv[2];
if (!path) throw new Error('usage: stopped-run-report FILE.hdr');
const text = readFileSync(path, 'utf8');
const network = (JSON.parse(text.slice(text.indexOf('{'), text.indexOf('\n'))) as { network: string }).network;
const runs = new Map<string, PolicyRun>();
for (const line of text.split('\n')) {
  if (!line.startsWith('#dnn-request ')) continue;
  const r = JSON.parse(line.slice('#dnn-request '.length)) as Record<string, unknown>;
  const policy = String(r['policy']);
  let run = runs.get(policy);
  if (!run) {
    const total = build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 3 });
    runs.set(policy, (run = { policy, trace: 'trace', histograms: { total }, requests: [], applied: [] }));
  }
  run.requests.push(r);
  run.histograms.total!.recordValue(Math.round(Number(r['total_ms']) * 1000));
}
const lastS = Math.max(...[...runs.values()].flatMap((r) => r.requests.map((q) => Number(q['t_ms'])))) / 1000;
console.error(`${path}: ${runs.size} policies, requests up to ${lastS.toFixed(1)} s of the trace`);
console.log(JSON.stringify(summarizeAdaptive(network, [...runs.values()]).map(({ timelines: _timelines, ...e }) => e)));
