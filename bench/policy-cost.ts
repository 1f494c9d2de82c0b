/**
 * What each adaptive policy's own JavaScript costs per request: the real policies (src/edge/adaptive/)
 * driven with a recorded request stream, the #dnn-request lines of an adaptive results file (each
 * policy's own lines: its arms, its observed parts, the condition in force), on the cost model fitted
 * on that file's profile cells, as the run fits it. Per request it times what the run loop
 * (src/edge/adaptive/stream.ts) calls on the policy -- probe?, choose, decision?, observe, estimate --
 * (the first pass, a fresh process's JIT, is what a run's first few hundred requests pay) and, apart, the loop's work that every policy pays alike (the oracle's choice logged on each line).
 * In the lab the edge process runs in the edge's CPU-quota cgroup, so on a 10x edge each µs of this
 * CPU costs ~10 µs of the edge's wall time. In process, seconds; no lab:
 *   npx tsc -p . && node dist/bench/policy-cost.js FILE.hdr [PASSES]
 */
import { gunzipSync } from 'node:zlib';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadResultFiles } from '../src/analysis/load-results.js';
import { fitCostModel, type CostModel } from '../src/analysis/cost-model.js';
import { NO_CONDITION, type Condition } from '../src/conditions/condition.js';
import { parseConditionLine } from '../src/conditions/grid.js';
import { bestFor, oracleCondition, type Observation } from '../src/edge/adaptive/policy.js';
import { makePolicy, type RequestRecord } from '../src/edge/adaptive/stream.js';

const [fileArg, passesArg = '20'] = process.argv.slice(2);
if (!fileArg) throw new Error('usage: policy-cost FILE.hdr[.gz] [PASSES]');
const passes = Number(passesArg);

// a gzipped file (docs/data) is read from a plain copy: the loader reads plain files
const file = fileArg.endsWith('.gz') ? join(mkdtempSync(join(tmpdir(), 'policy-cost-')), 'run.hdr') : fileArg;
if (file !== fileArg) writeFileSync(file, gunzipSync(readFileSync(fileArg)));
const text = readFileSync(file, 'utf8');
const requests = text
  .split('\n')
  .filter((l) => l.startsWith('#dnn-request '))
  .map((l) => JSON.parse(l.slice('#dnn-request '.length)) as RequestRecord);
const net = loadResultFiles([file]).networks.find((n) => n.scenario === undefined)!;
const fitted = fitCostModel(net, 'p50');
if ('reason' in fitted) throw new Error(fitted.reason);
const model: CostModel = fitted;

const conditions = new Map<string, Condition>();
const conditionOf = (key: string) => {
  let c = conditions.get(key);
  if (!c) conditions.set(key, (c = parseConditionLine(key, 'request', NO_CONDITION).condition));
  return c;
};
const observed = (r: RequestRecord): Observation => ({ cut: r.cut, edge_ms: r.edge_ms, transfer_ms: r.transfer_ms, cloud_ms: r.cloud_ms, bytes: r.bytes, encode_ms: r.encode_ms, decode_ms: r.decode_ms, total_ms: r.total_ms });

const names = [...new Set(requests.map((r) => r.policy))];
const initialRate = requests.find((r) => r.est_mbit !== null)?.est_mbit ?? null;
const ns = (t0: bigint) => Number(process.hrtime.bigint() - t0);

console.log(`${file}: ${requests.length} requests of ${names.length} policies, ${model.cuts.length} arms; ${passes} passes (the first is warm-up)`);
console.log('policy                        requests  policy µs/req: first pass, median pass  loop µs/req (oracle choice, all alike)');
for (const name of names) {
  const stream = requests.filter((r) => r.policy === name).map((r) => ({ inForce: conditionOf(r.condition), obs: observed(r), t: r.t_ms }));
  const policyNs: number[] = [];
  const loopNs: number[] = [];
  let firstNs = 0;
  for (let pass = 0; pass < passes; pass++) {
    // a fresh policy per pass, as a run makes it; the recorded observations stand for the requests
    const policy = makePolicy(name, model, initialRate);
    let pNs = 0;
    let lNs = 0;
    for (const q of stream) {
      let t0 = process.hrtime.bigint();
      policy.probe?.(q.t);
      policy.choose(q.inForce);
      policy.decision?.();
      pNs += ns(t0);
      t0 = process.hrtime.bigint();
      bestFor(model, oracleCondition(model, q.inForce));
      lNs += ns(t0);
      t0 = process.hrtime.bigint();
      policy.observe(q.obs);
      policy.estimate();
      pNs += ns(t0);
    }
    if (pass === 0) firstNs = pNs / stream.length;
    else {
      policyNs.push(pNs / stream.length);
      loopNs.push(lNs / stream.length);
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  console.log(`${name.padEnd(30)}${String(stream.length).padStart(8)}  ${(firstNs / 1000).toFixed(2).padStart(24)}${(median(policyNs) / 1000).toFixed(2).padStart(13)}  ${(median(loopNs) / 1000).toFixed(2).padStart(38)}`);
}
