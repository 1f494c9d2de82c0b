// test-process: shared (pure: no backend, environment, signal handlers or children; see test/run-shared.ts)
// Interleaved replay (--policy-slot): the slot plan, its balanced seeded orders, each slot's piece of the trace, one state per policy across its slots.
import t from 'tap';
import path from 'node:path';
import { NO_CONDITION } from '../../src/conditions/condition.js';
import type { Schedule } from '../../src/conditions/trace.js';
import { playSlots, slotPlan, slotSchedule, type Slot } from '../../src/edge/adaptive/slots.js';
import { parseEdgeOptions } from '../../src/cli/edge-options.js';
import { userErrorOf } from '../helpers/user-error.js';
import { FIXTURES } from '../helpers/cli.js';

/** The interleaved replay's plan (--policy-slot), pure: slots, their seeded orders, each slot's piece of the schedule. */
const POLICIES = ['adaptive', 'model', 'oracle', 'static:a', 'static:b'];

t.test('slots cover the trace once, back to back; the last one is cut at its end', async (t) => {
  const plan = slotPlan(12_500, 5000, POLICIES, 7);
  t.same(
    plan.map((s) => [s.index, s.fromMs, s.toMs]),
    [
      [0, 0, 5000],
      [1, 5000, 10_000],
      [2, 10_000, 12_500],
    ],
  );
  for (const s of plan) t.same([...s.order].sort(), [...POLICIES].sort(), `slot ${s.index}: every policy once`);
});

t.test('the orders: shuffled per slot, reproduced by the seed, another seed another plan', async (t) => {
  const a = slotPlan(60_000, 5000, POLICIES, 7);
  t.same(slotPlan(60_000, 5000, POLICIES, 7), a, 'the same seed: the same orders');
  t.notSame(slotPlan(60_000, 5000, POLICIES, 8).map((s) => s.order), a.map((s) => s.order), 'another seed: other orders');
  t.ok(new Set(a.map((s) => s.order.join())).size > 1, 'the order changes from slot to slot');
  // balanced (Williams): in each round, every policy at every place and directly after every other equally often
  for (const policies of [POLICIES, POLICIES.slice(0, 4)]) {
    const p = policies.length;
    const per = p % 2 ? 2 : 1;
    const plan = slotPlan(3 * per * p * 5000, 5000, policies, 11);
    for (let r = 0; r < plan.length; r += per * p) {
      const round = plan.slice(r, r + per * p);
      const places = new Map<string, number>();
      const after = new Map<string, number>();
      for (const s of round) {
        s.order.forEach((name, i) => {
          places.set(`${name}@${i}`, (places.get(`${name}@${i}`) ?? 0) + 1);
          if (i > 0) after.set(`${s.order[i - 1]}<${name}`, (after.get(`${s.order[i - 1]}<${name}`) ?? 0) + 1);
        });
      }
      t.same([places.size, new Set(places.values())], [p * p, new Set([per])], `${p} policies, round ${r / (per * p)}: every policy ${per}x at every place`);
      t.same([after.size, new Set(after.values())], [p * (p - 1), new Set([per])], `${p} policies, round ${r / (per * p)}: every policy ${per}x right after every other`);
    }
  }
  // rounds reshuffled: who follows whom changes
  const follows = (s: { order: string[] }) => s.order.map((p, i) => `${s.order[(i + 1) % s.order.length]}<${p}`).sort().join();
  const cycles = new Set(a.filter((_, k) => k % (2 * POLICIES.length) === 0).map(follows));
  t.ok(cycles.size > 1, `rounds with other neighbours: ${cycles.size} cycles in ${Math.ceil(a.length / (2 * POLICIES.length))} rounds`);
});

t.test('off: the sequential replay, one slot of the whole trace in the order given', async (t) => {
  t.same(slotPlan(60_000, null, POLICIES, 7), [{ index: 0, fromMs: 0, toMs: 60_000, order: POLICIES }]);
  t.same(slotPlan(3000, 5000, POLICIES, 7).length, 1, 'a slot longer than the trace: one slot (its order still shuffled)');
});

t.test('playing the plan: each policy keeps its own state across its slots, in trace order; done after its last slot', async (t) => {
  const plan = slotPlan(23_000, 5000, POLICIES, 3);
  // a policy's state as a learning policy's would be: what it has seen so far
  const states = new Map(POLICIES.map((p) => [p, { name: p, played: [] as number[], done: false }]));
  const turns: string[] = [];
  const log: string[] = [];
  await playSlots(
    plan,
    states,
    async (state, slot: Slot, pos) => {
      t.equal(slot.order[pos], state.name, 'the turn is the policy at its place in the slot');
      t.notOk(state.done, `${state.name}: no turn after its results were written`);
      state.played.push(slot.index);
      turns.push(`${slot.index}:${state.name}`);
    },
    async (state) => {
      state.done = true;
      log.push(`done ${state.name} after ${turns.length} turns`);
    },
    (slot) => log.push(`slot ${slot.index}`),
  );
  for (const s of states.values()) t.same(s.played, [0, 1, 2, 3, 4], `${s.name}: every slot, in trace order, on one state`);
  t.same(turns, plan.flatMap((s) => s.order.map((p) => `${s.index}:${p}`)), 'turns in the order of the plan');
  const doneAt = log.filter((l) => l.startsWith('done')).map((l) => Number(l.split(' after ')[1]!.split(' ')[0]));
  t.same(doneAt, [21, 22, 23, 24, 25], 'each policy done right after its turn in the last slot');
  t.same(log.filter((l) => l.startsWith('slot')), ['slot 0', 'slot 1', 'slot 2', 'slot 3'], 'between the slots, not after the last');
  // sequential: each policy done as it ends
  const seq: string[] = [];
  await playSlots(slotPlan(23_000, null, POLICIES, 3), states, async (s) => void seq.push(`turn ${s.name}`), async (s) => void seq.push(`done ${s.name}`));
  t.same(seq, POLICIES.flatMap((p) => [`turn ${p}`, `done ${p}`]));
});

const cond = (net: number) => ({ ...NO_CONDITION, net });
const SCHEDULE: Schedule = {
  trace: 'x',
  lengthMs: 12_000,
  steps: [
    { atMs: 0, condition: cond(50) },
    { atMs: 3000, condition: cond(5) },
    { atMs: 5000, condition: cond(20) },
    { atMs: 7500, condition: cond(2) },
    { atMs: 11_000, condition: cond(8) },
  ],
};

t.test("a slot's piece: the condition in force at its start, then its own steps, shifted; the original indices kept", async (t) => {
  const mid = slotSchedule(SCHEDULE, 4000, 8000);
  t.same(
    mid.schedule.steps.map((s) => [s.atMs, s.condition.net]),
    [
      [0, 5],
      [1000, 20],
      [3500, 2],
    ],
    'in force at 4 s: the step of 3 s, then 5 s and 7.5 s',
  );
  t.same(mid.steps, [1, 2, 3]);
  t.equal(mid.schedule.lengthMs, 4000);
  const edge = slotSchedule(SCHEDULE, 5000, 10_000);
  t.same(edge.steps, [2, 3], 'a step at the slot start is its first, not repeated');
  t.same(edge.schedule.steps.map((s) => s.atMs), [0, 2500]);
  t.same(slotSchedule(SCHEDULE, 10_000, 12_000).steps, [3, 4], 'the last slot');
  t.same(slotSchedule(SCHEDULE, 0, 12_000).schedule.steps, SCHEDULE.steps, 'one slot of the whole trace: the schedule itself');
});

t.test('--policy-slot: 5 s by default, off, a number; refused when bad, without --trace, or with a camera', async (t) => {
  const trace = path.join(FIXTURES, 'traces/norway_train_11.txt');
  const withTrace = ['lab', 'lenet', '--trace', trace];
  t.equal(parseEdgeOptions(withTrace).trace?.slotMs, 5000, 'default: the hindsight window, 5 s');
  t.equal(parseEdgeOptions([...withTrace, '--policy-slot', 'off']).trace?.slotMs, null);
  t.equal(parseEdgeOptions([...withTrace, '--policy-slot', '2.5']).trace?.slotMs, 2500);
  t.equal(parseEdgeOptions([...withTrace, '--scenario', 'stream:15']).trace?.slotMs, null, 'a camera: each policy whole');
  const refused: [string[], RegExp][] = [
    [[...withTrace, '--policy-slot', '0'], /^--policy-slot must be seconds of trace time above 0 \(e\.g\. 5\) or off, got '0'$/],
    [[...withTrace, '--policy-slot', 'soon'], /^--policy-slot must be seconds/],
    [['lab', 'lenet', '--policy-slot', '5'], /^--policy-slot needs --trace FILE$/],
    [[...withTrace, '--scenario', 'stream:15', '--policy-slot', '5'], /^--policy-slot 5 interleaves single requests; a camera/],
  ];
  for (const [args, re] of refused) {
    const e = await userErrorOf(() => parseEdgeOptions(args));
    t.equal(e?.exitCode, 2, args.slice(4).join(' '));
    t.match(e?.message, re);
  }
  t.equal(parseEdgeOptions([...withTrace, '--scenario', 'stream:15', '--policy-slot', 'off']).trace?.slotMs, null, 'a camera with off: accepted');
});
