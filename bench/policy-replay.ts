/**
 * The policies replayed offline on a measured run: an adaptive results file with `static:all`
 * holds, for every arm, the requests its static policy measured along the trace; a policy replayed
 * here chooses an arm at trace time t and is answered with that arm's measured request nearest to t
 * (its parts teach the policy, its total moves t on), as if it had run in the lab at that time.
 * What it cannot show: the cost of coldness (every static request ran on a warm arm), the machine's
 * drift between the static policies' turns. Variants of `adaptive` by its options (LearningOptions),
 * so a change to its rules can be compared on real runs before a lab run. In process, seconds:
 *   npx tsc -p . && node dist/bench/policy-replay.js FILE.hdr[.gz] [NAME=JSON_OPTIONS...]
 * e.g. `whole='{"maxArmDrift":0.5}'` (the doubt of the whole arm, as before 2026-12-05).
 */
import { LEARNING_DEFAULTS, LearningPolicy, type LearningOptions } from '../src/edge/adaptive/learning-policy.js';
import type { Policy } from '../src/edge/adaptive/policy.js';
import { makePolicy, type RequestRecord } from '../src/edge/adaptive/stream.js';
import { observationOf, readAdaptiveFile } from './adaptive-file.js';

const [fileArg, ...variantArgs] = process.argv.slice(2);
if (!fileArg) throw new Error('usage: policy-replay FILE.hdr[.gz] [NAME=JSON_OPTIONS...]');
const { requests, model, initialRate, conditionOf } = readAdaptiveFile(fileArg);

// each arm's measured requests, by trace time
const byArm = new Map<string, RequestRecord[]>();
for (const r of requests) if (r.policy.startsWith('static:')) byArm.set(r.cut, [...(byArm.get(r.cut) ?? []), r]);
for (const rs of byArm.values()) rs.sort((a, b) => a.t_ms - b.t_ms);
const arms = model.cuts.map((c) => c.cut);
const missing = arms.filter((a) => !byArm.has(a));
if (missing.length) throw new Error(`${fileArg}: no static requests of ${missing.join(', ')}: the run needs --policies ...,static:all`);
const lengthMs = Math.max(...requests.map((r) => r.t_ms));

/** The arm's measured request nearest to trace time t (binary search). */
function answer(arm: string, t: number): RequestRecord {
  const rs = byArm.get(arm)!;
  let lo = 0;
  let hi = rs.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (rs[mid]!.t_ms < t) lo = mid + 1;
    else hi = mid;
  }
  return lo > 0 && t - rs[lo - 1]!.t_ms < rs[lo]!.t_ms - t ? rs[lo - 1]! : rs[lo]!;
}

interface Replayed {
  n: number;
  mean: number;
  explored: number;
  exploreShare: number;
}

function replay(policy: Policy): Replayed {
  let t = 0;
  let busy = 0;
  let explored = 0;
  let exploreMs = 0;
  let n = 0;
  while (t < lengthMs) {
    const inForce = conditionOf(answer(arms[0]!, t).condition);
    const cut = policy.choose(inForce);
    const explore = policy.decision?.().explore ?? false;
    const r = answer(cut, t);
    policy.observe(observationOf(r));
    busy += r.total_ms;
    if (explore) {
      explored++;
      exploreMs += r.total_ms;
    }
    t += r.total_ms;
    n++;
  }
  return { n, mean: busy / n, explored, exploreShare: exploreMs / busy };
}

const rows = new Map<string, Replayed>();
for (const a of arms) rows.set(`static:${a}`, replay(makePolicy(`static:${a}`, model, initialRate)));
const best = [...rows].reduce((x, y) => (y[1].mean < x[1].mean ? y : x));
rows.set('model', replay(makePolicy('model', model, initialRate)));
rows.set('oracle', replay(makePolicy('oracle', model, initialRate)));
rows.set('adaptive', replay(makePolicy('adaptive', model, initialRate)));
for (const v of variantArgs) {
  const [name, json] = [v.slice(0, v.indexOf('=')), v.slice(v.indexOf('=') + 1)];
  rows.set(`adaptive ${name}`, replay(new LearningPolicy(model, { ...LEARNING_DEFAULTS, ...(JSON.parse(json) as Partial<LearningOptions>) }, initialRate)));
}
console.log(`${fileArg}: ${(lengthMs / 1000).toFixed(0)} s of the trace replayed offline on its static policies' requests; best static ${best[0]} (${best[1].mean.toFixed(1)} ms)`);
console.log('policy                              requests    mean  / best static  explored (share of time)');
for (const [name, r] of rows) {
  console.log(`${name.padEnd(36)}${String(r.n).padStart(8)}${r.mean.toFixed(1).padStart(8)}${(r.mean / best[1].mean).toFixed(3).padStart(15)}  ${r.explored ? `${r.explored} (${(100 * r.exploreShare).toFixed(1)} %)` : '-'}`);
}
