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
import { bestFor, oracleCondition } from '../src/edge/adaptive/policy.js';
import { makePolicy } from '../src/edge/adaptive/stream.js';
import { observationOf, readAdaptiveFile } from './adaptive-file.js';

const [fileArg, passesArg = '20'] = process.argv.slice(2);
if (!fileArg) throw new Error('usage: policy-cost FILE.hdr[.gz] [PASSES]');
const passes = Number(passesArg);
const { path: file, requests, model, initialRate, conditionOf } = readAdaptiveFile(fileArg);
const observed = observationOf;

const names = [...new Set(requests.map((r) => r.policy))];
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
