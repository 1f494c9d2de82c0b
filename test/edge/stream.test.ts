// test-process: shared (pure: no backend, environment, signal handlers or children; see test/run-shared.ts)
// runPolicies in process (about 1 s with LeNet on the CPU backend): real inference on both halves
// through an in-process cloud, a two-step schedule whose link changes are left to the caller (the
// replay needs root: adaptive-lab.test.ts runs it), stress changes recorded.
import t from 'tap';
import type { CellStats, NetworkData } from '../../src/analysis/cells.js';
import { fitCostModel, type CostModel } from '../../src/analysis/cost-model.js';
import { NO_CONDITION, conditionKey, type Condition } from '../../src/conditions/condition.js';
import { conditionAt, type Schedule } from '../../src/conditions/trace.js';
import { epochMs } from '../../src/conditions/trace-replay.js';
import { bestFor, oracleCondition } from '../../src/edge/adaptive/policy.js';
import { runPolicies, type RequestRecord } from '../../src/edge/adaptive/stream.js';
import { measureOnce } from '../../src/edge/measure.js';
import { F32_WIRE } from '../../src/edge/arms.js';
import { InProcessLink, lenetHere } from '../helpers/in-process-link.js';

const { network, runner, input } = await lenetHere(t);
const [first, second] = network.cuts.filter((c) => c.kind !== 'output');

/** A profile where `first` is best on a fast link and `second` on a slow one (the stream asks the model only who is best). */
function model(): CostModel {
  const stat = (v: number) => ({ p50: v, p95: v, mean: v, samples: 5 });
  const times = { [first!.layer]: { edge: 0.1, cloud: 5 }, [second!.layer]: { edge: 3, cloud: 1 } };
  const data: NetworkData = {
    network: network.id,
    cuts: [first!, second!].map((c) => ({ cut: c.layer, index: c.index, bytes: c.bytes })),
    sources: [],
    conditions: [1, 100].map((net) => {
      const cells = new Map<string, CellStats>();
      for (const c of [first!, second!]) {
        const transfer = 0.2 + (c.bytes * 8) / (net * 1000);
        const x = times[c.layer]!;
        cells.set(c.layer, { edge: stat(x.edge), transfer: stat(transfer), cloud: stat(x.cloud), total: stat(x.edge + transfer + x.cloud) });
      }
      return { condition: { ...NO_CONDITION, net }, cells };
    }),
  };
  return fitCostModel(data, 'p50') as CostModel;
}

t.test('each policy streams through the whole schedule; stress follows it, the oracle is logged with every request', async (t) => {
  const m = model();
  const slow = { ...NO_CONDITION, net: 1 };
  const fastStressed = { ...NO_CONDITION, net: 100, ecpu: 50 };
  t.not(bestFor(m, oracleCondition(m, slow)), bestFor(m, oracleCondition(m, fastStressed)), 'the best point differs between the two steps');
  const schedule: Schedule = { trace: 'two-steps', steps: [{ atMs: 0, condition: slow }, { atMs: 300, condition: fastStressed }] as Schedule['steps'], lengthMs: 600 };
  const stress: string[] = [];
  const done: { policy: string; requests: RequestRecord[]; recorded: number; startMs: number; endMs: number }[] = [];
  const lines: string[] = [];
  // the run warms up before its stream (calibrateOrWarmUp): a cold first inference takes longer than the schedule
  const link = new InProcessLink(runner, () => null);
  for (const c of [first!, second!]) for (let i = 0; i < 3; i++) await measureOnce(runner, link, { cut: c, codec: F32_WIRE }, { tensor: input });
  let replays = 0;
  let stops = 0;
  await runPolicies(
    { policies: [`static:${first!.layer}`, 'oracle'], intervalMs: 20, initialRate: 1 },
    {
      runner,
      link,
      inputs: [{ tensor: input }],
      arms: new Map(network.cuts.map((c) => [c.layer, { cut: c, codec: F32_WIRE }])),
      model: m,
      schedule,
      startReplay: async () => {
        replays++;
        return epochMs();
      },
      stopReplay: async () => {
        stops++;
      },
      applyStress: async (c: Condition) => {
        stress.push(conditionKey(c));
      },
      finished: async (policy, recorder, requests, _applied, startMs, endMs) => {
        done.push({ policy, requests, recorded: recorder.histograms.total.totalCount, startMs, endMs });
      },
      log: (l) => lines.push(l),
    },
  );
  t.equal(replays, 2, 'the trace replayed once per policy');
  t.equal(stops, 2, 'and stopped after each');
  t.same(done.map((d) => d.policy), [`static:${first!.layer}`, 'oracle']);
  t.same(stress, [conditionKey(slow), conditionKey(fastStressed), conditionKey(slow), conditionKey(fastStressed)], 'stress applied at each change of the stress levels, per policy');
  for (const d of done) {
    const r = d.requests;
    t.ok(r.length >= 2 && r.length <= 30, `${d.policy}: ${r.length} requests, at most one per 20 ms over 600 ms`);
    t.ok(new Set(r.map((q) => q.condition)).size === 2, 'under both steps');
    t.equal(d.recorded, r.length, 'every request in the histograms');
    t.ok(r.every((q, i) => q.t_ms < schedule.lengthMs && (i === 0 || q.t_ms > r[i - 1]!.t_ms)), 'in time order, within the schedule');
    t.ok(r.every((q) => q.condition === conditionKey(conditionAt(schedule, q.t_ms))), 'each request tagged with the condition in force');
    t.ok(r.every((q) => q.oracle_cut === bestFor(m, oracleCondition(m, conditionAt(schedule, q.t_ms)))), 'and with the oracle\'s choice there');
    t.ok(d.endMs >= d.startMs + schedule.lengthMs, 'the run lasted the schedule');
  }
  const [fixed, oracle] = done as [(typeof done)[number], (typeof done)[number]];
  t.ok(fixed.requests.every((q) => q.cut === first!.layer && !q.switched), 'a static policy stays at its point');
  t.ok(fixed.requests.every((q) => q.bytes > first!.bytes && q.encode_ms === 0 && q.decode_ms === 0), 'each request with its INFER bytes (raw f32: nothing encoded)');
  t.ok(oracle.requests.every((q) => q.cut === q.oracle_cut), 'the oracle always at its own choice');
  t.equal(oracle.requests.filter((q) => q.switched).length, 1, 'and switches once, where the schedule steps');
  t.match(lines.find((l) => l.startsWith('policy oracle:') && l.includes('requests')), /1 switches, oracle's choice in 100 %; 0 trace steps applied/);
});
