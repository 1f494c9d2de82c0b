// test-process: shared (pure: no backend, environment, signal handlers or children; see test/run-shared.ts)
// The plan and shard records in #dnn-meta: a schema each, plus what a schema cannot say (the bounds
// partition the plan's cells, the shard is one of them), checked on every read.
import t from 'tap';
import { NO_CONDITION } from '../../src/conditions/condition.js';
import { shardPlan, shardRecord } from '../../src/edge/shard.js';
import { checkRunMetadata } from '../../src/results/metadata.js';
import { shardPlanProblem } from '../../src/results/plan.js';
import { sampleMeta } from '../helpers/results.js';

const CUTS = ['a', 'b', 'c'];
const spec = { network: 'n', fingerprint: 'f', conditions: [10, 20, 30, 40].map((net) => ({ ...NO_CONDITION, net })), cuts: CUTS, reps: 2, warmup: 1 };
const points = CUTS.map(() => ({ edgeMacs: 1e6, cloudMacs: 1e6, bytes: 1000 }));
const { plan, partition } = shardPlan(spec, points, 3);
const shard = shardRecord(partition, { index: 2, count: 3 });
const meta = { ...sampleMeta('n', CUTS), plan, shard };

t.test('the records dnn-edge writes pass', async (t) => {
  t.equal(shardPlanProblem(plan, shard), undefined);
  t.same(checkRunMetadata(JSON.parse(JSON.stringify(meta)), 'x:1').shard, shard);
  t.same(checkRunMetadata({ ...meta, shard: undefined }, 'x:1').plan, plan, 'a run of the whole plan');
});

t.test('broken records: file:line, the field, expected and got', async (t) => {
  const cases: [object, RegExp][] = [
    [{ plan: { ...plan, reps: 3 } }, new RegExp(`^x:1: #dnn-meta field plan\\.hash is ${plan.hash}, but the plan's fields hash to [0-9a-f]{16} \\(the plan was edited\\)`)],
    [{ plan: { ...plan, reps: 'two' } }, /^x:1: #dnn-meta field 'plan\.reps': expected an integer >= 0, got "two"/],
    [{ plan: { ...plan, hash: undefined } }, /^x:1: #dnn-meta field 'plan\.hash' is missing \(expected a string\)/],
    [{ plan: { ...plan, cuts: [1, 2] } }, /field 'plan\.cuts\.0': expected a string, got 1/],
    [{ shard: { ...shard, index: 0 } }, /field 'shard\.index': expected an integer >= 1, got 0/],
    [{ shard: { ...shard, index: 4 } }, /field shard\.index is 4, more than shard\.count 3/],
    [{ shard: { ...shard, bounds: shard.bounds.slice(1) } }, /field shard\.bounds has 3 numbers, expected shard\.count \+ 1 = 4/],
    [{ shard: { ...shard, bounds: [1, ...shard.bounds.slice(1)] } }, /field shard\.bounds starts at 1, expected 0/],
    [{ shard: { ...shard, bounds: [0, 5, 5, 12] } }, /field shard\.bounds is not increasing at position 2 \(5 then 5\)/],
    [{ shard: { ...shard, bounds: [0, 4, 8, 11] } }, /field shard\.bounds ends at 11, expected the plan's 12 cells \(4 conditions x 3 points\)/],
    [{ plan: undefined }, /field shard is given without plan/],
  ];
  for (const [change, re] of cases) t.throws(() => checkRunMetadata({ ...meta, ...change }, 'x:1'), re, JSON.stringify(change));
});
