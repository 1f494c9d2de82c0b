// --tiers 3 before anything runs: the plan (points, configurations, plan record) and --dry-run's
// figures, from the real lenet; the best (x, y) per condition read back from a results file.
import t from 'tap';
import { join } from 'node:path';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { formatTierTraceDryRun, tierOracle, tierPolicies, tierTracePlan } from '../../src/edge/adaptive/tier-replay.js';
import { fileURLToPath } from 'node:url';
import { parseEdgeOptions } from '../../src/cli/edge-options.js';
import { formatTierDryRun, loadTierPoints, prepareTierPlan, tierPlan, tierPlanRecord } from '../../src/edge/run-tiers.js';
import { bestConfigs } from '../../src/edge/tier-summary.js';
import { ResultsWriter } from '../../src/results/log-writer.js';
import { NO_CONDITION } from '../../src/conditions/condition.js';
import { newLatencyHistogram } from '../../src/results/log-lines.js';
import { sampleMeta } from '../helpers/results.js';
import { userErrorOf } from '../helpers/user-error.js';

t.test('plan and --dry-run: configurations, cells, inferences; --max-configs; a bad --configs before anything starts', async (t) => {
  const o = parseEdgeOptions(['lab', 'lenet', '--tiers', '3', '--device-net', '50,5', '--net', '10', '--cuts', 'max_pooling2d_2,dense_1', '--reps', '4']);
  const plan = await prepareTierPlan({ ...o, tiers: o.tiers! }, 1);
  t.equal(plan.points.length, 4, 'the two points plus input and output');
  t.equal(plan.configs.length, 10);
  const text = formatTierDryRun(plan, { reps: 4, warmup: 1 });
  t.match(text, /4 points \(the input and output points included\) -> 10 configurations \(x, y\), 1 of them three-tier/);
  t.match(text, /2 conditions x 10 configurations = 20 cells, 4 samples \+ 1 warm-up each = 100 inferences/);
  const record = tierPlanRecord(plan, 4, 1);
  t.equal(record.tiers?.configs.length, 10);
  t.not(record.hash, tierPlanRecord({ ...plan, configs: plan.configs.slice(1) }, 4, 1).hash, 'the configurations are in the hash');
  const all = await prepareTierPlan({ ...o, cuts: 'all', tiers: { maxConfigs: 5 } }, 7);
  t.equal(all.configs.length, 5);
  t.match(formatTierDryRun(all, { reps: 4, warmup: 1, maxConfigs: 5 }), /--max-configs 5: sampled from \d+/);
  // the CLI loads the network once, before anything starts; the run draws its configurations from it with its own seed
  const sampled = { ...o, cuts: 'all', tiers: { maxConfigs: 5 } };
  const loaded = await loadTierPoints(sampled);
  const labels = (p: { configs: { x: { layer: string }; y: { layer: string } }[] }) => p.configs.map((c) => `${c.x.layer}|${c.y.layer}`);
  t.same(labels(tierPlan(loaded, sampled, 7)), labels(all), 'the same draw from the loaded network as prepareTierPlan with the seed');
  t.equal(tierPlan(loaded, sampled, 8).network, loaded.network, 'another seed: the same network, not loaded again');
  const e = await userErrorOf(() => prepareTierPlan({ ...o, tiers: { configs: ['dense_1|max_pooling2d_2'] } }, 1));
  t.match(e?.message, /x after y/);
  const bad = await userErrorOf(() => prepareTierPlan({ ...o, cuts: 'nope', tiers: {} }, 1));
  t.match(bad?.message, /--cuts: nope is not a partition point of lenet/);
});

t.test('--tiers 3 --trace before anything runs: the statics as configurations, the dry run', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'dnn-tier-trace-plan-'));
  const trace = join(dir, 'drop.trace');
  await writeFile(trace, 't=0;dnet=50\nt=10;dnet=5\n');
  const o = parseEdgeOptions(['lab', 'lenet', '--tiers', '3', '--trace', trace, '--cuts', 'max_pooling2d_2']);
  const plan = await prepareTierPlan({ ...o, tiers: o.tiers! }, 1);
  const [input, mid, output] = plan.points.map((p) => p.layer);
  t.same(tierPolicies('static:all', plan.configs).map((p) => p.name), plan.configs.map((c) => `static:${c.x.layer}|${c.y.layer}`), 'static:all: every configuration');
  t.same(tierPolicies('static:auto', plan.configs).map((p) => p.name).sort(), [`static:${input}|${input}`, `static:${input}|${output}`, `static:${output}|${output}`].sort(), 'static:auto: the pure ones');
  t.same(tierPolicies(`static:${mid}|${output},static:auto`, plan.configs).length, 4);
  t.match((await userErrorOf(() => tierPolicies(`static:${output}|${mid}`, plan.configs)))?.message, /is not a configuration x\|y of this run \(6 from/);
  t.same(tierPolicies('oracle,static:auto', plan.configs).map((p) => p.config === null), [true, false, false, false], 'the oracle chooses per request');
  t.match(formatTierTraceDryRun(o.trace!, tierPolicies('oracle,static:auto', plan.configs), 6), /3 of the run's 6 configurations \(x, y\) as static policies and the oracle, interleaved in 4 slots of 5 s: 1m20s/);
  const text = formatTierTraceDryRun(o.trace!, tierPolicies('static:all', plan.configs), 6);
  t.match(text, /drop\.trace \(2 steps, 20\.0 s\) on the device link \(dnet\)\n/, 'the edge link never set: not replayed');
  t.match(text, /6 of the run's 6 configurations \(x, y\) as static policies, interleaved in 4 slots of 5 s: 2m00s of requests/);
  t.notMatch(text, /many configurations/, 'a few statics: no advice');
  const many = Array.from({ length: 25 }, () => tierPolicies('static:all', plan.configs)[0]!);
  t.match(formatTierTraceDryRun(o.trace!, many, 25), /many configurations: narrow them with --configs/, 'many statics: how to narrow them');
});

t.test('--tiers 3 --trace oracle: the additive model of a stored three-tier sweep picks a configuration per condition', async (t) => {
  const profile = fileURLToPath(new URL('../../../docs/data/runs/tiers/lenet-20261204T231326Z.hdr', import.meta.url));
  const o = parseEdgeOptions(['lab', 'lenet', '--tiers', '3', '--device-net', '20', '--net', '5', '--cuts', 'max_pooling2d_2']);
  const plan = await prepareTierPlan({ ...o, tiers: o.tiers! }, 1);
  const schedule = { trace: 't', lengthMs: 2000, steps: [{ atMs: 0, condition: { ...NO_CONDITION, net: 5, dnet: 20 } }, { atMs: 1000, condition: { ...NO_CONDITION, net: 5, dnet: 0.05 } }] };
  const oracle = tierOracle([profile], 'lenet', plan.configs, schedule);
  const label = (c: { x: { layer: string }; y: { layer: string } }) => `${c.x.layer}|${c.y.layer}`;
  // lenet computes in well under a ms: the device alone wins unless a link is very fast (tiers.test: three_tier_wins false)
  t.equal(label(oracle(schedule.steps[0]!.condition)), 'activation_4|activation_4', 'device-only at dnet 20 / net 5, as the sweep measured');
  t.ok(plan.configs.includes(oracle(schedule.steps[1]!.condition)), "one of the run's configurations");
  const twoTier = fileURLToPath(new URL('../../../test/fixtures/results/lenet-grid-v0.1.0.hdr', import.meta.url));
  t.match((await userErrorOf(() => tierOracle([twoTier], 'lenet', plan.configs, schedule)))?.message, /--profile: .*lenet-grid-v0\.1\.0\.hdr holds no three-tier sweep of lenet/);
  const outside = await prepareTierPlan({ ...o, tiers: { configs: ['conv2d_1|conv2d_1'] } }, 1);
  t.match((await userErrorOf(() => tierOracle([profile], 'lenet', outside.configs, schedule)))?.message, /none of this run's 1 configurations is in the three-tier sweep of lenet/);
  const traced = tierTracePlan(plan, { policies: 'oracle,static:auto', profile: [profile], schedule });
  t.equal(traced.policies.length, 4);
  t.equal(label(traced.oracle!(schedule.steps[0]!.condition)), 'activation_4|activation_4', 'the oracle fitted once, before anything starts, and handed to the run');
  t.equal(tierTracePlan(plan, { policies: 'static:auto', profile: [join(tmpdir(), 'no-such-profile.hdr')], schedule }).oracle, null, 'no oracle among the policies: --profile not read');
  const delayed = { ...schedule, steps: [{ atMs: 0, condition: { ...NO_CONDITION, net: 5, dnet: 20, delay: 10 } }] };
  t.match((await userErrorOf(() => tierOracle([profile], 'lenet', plan.configs, delayed)))?.message, /--profile \(the oracle\): delay is not in the three-tier model/, 'a condition outside the model: refused before anything starts');
});

t.test('the best (x, y) per condition, and the best with a tier unused beside it', async (t) => {
  const path = join(t.testdir(), 'run.hdr');
  const meta = { ...sampleMeta('lenet', ['in', 'a', 'b', 'out']), tiers: { count: 3 as const, configs: 3 } };
  const w = await ResultsWriter.create(path, meta);
  const cell = (ms: number) => Object.fromEntries(['device', 'device_transfer', 'edge', 'transfer', 'cloud', 'total'].map((m) => {
    const h = newLatencyHistogram();
    h.recordValue(m === 'total' ? ms * 1000 : 1);
    return [m, h];
  })) as never;
  const c = { ...NO_CONDITION, dnet: 5 };
  await w.appendTierCell(c, 'a', 'b', cell(10), 0, 1);
  await w.appendTierCell(c, 'in', 'out', cell(20), 0, 1);
  await w.appendTierCell(c, 'out', 'out', cell(15), 0, 1);
  await w.close();
  const [b] = bestConfigs(path);
  t.match(b, { best: { config: 'a|b', threeTier: true }, bestTwoTier: { config: 'out|out' }, configs: 3 });
});
