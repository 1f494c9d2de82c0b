import type { Schedule } from '../../conditions/trace.js';
import { conditionAt, stepIndexAt } from '../../conditions/trace.js';
import { rng, shuffled } from '../../random.js';

/**
 * Interleaved replay (--policy-slot S): the trace is cut into slots of S seconds of trace time, and
 * in each slot every policy in turn replays that slot, in an order shuffled per slot (seeded), each
 * keeping its own state across its slots. Background load that drifts over minutes then hits every
 * policy within about P x S seconds alike, instead of one policy's whole minute. Pure: the plan
 * and each slot's piece of the schedule; the run loop (stream.ts) plays them.
 */
export interface Slot {
  /** 0, 1, ...: the slot's index (`slot` on the request lines) */
  index: number;
  /** the trace time it replays: [fromMs, toMs) */
  fromMs: number;
  toMs: number;
  /** the policies in the order they replay this slot (a request line's `slot_pos` is its policy's place here) */
  order: string[];
}

/**
 * The slots of a run. `slotMs` null: the sequential replay (one slot, the whole trace, the
 * policies in the order given). Otherwise ceil(length / slotMs) slots, the last one shorter when
 * the length is not a multiple. Their orders are balanced: in each round of P slots (P policies) a
 * seeded shuffle, rotated by one place per slot, so every policy takes every place once per round
 * (a slot's later places run later in wall time: drift within a slot does not favour one policy);
 * each round is shuffled afresh, so no policy always follows the same one (and its warm arm).
 */
export function slotPlan(lengthMs: number, slotMs: number | null, policies: readonly string[], seed: number): Slot[] {
  if (slotMs === null) return [{ index: 0, fromMs: 0, toMs: lengthMs, order: [...policies] }];
  if (!(slotMs > 0)) throw new Error(`bug: a slot of ${slotMs} ms`);
  const random = rng(seed);
  const slots: Slot[] = [];
  const p = policies.length;
  let round: string[] = [];
  for (let from = 0, k = 0; from < lengthMs; from += slotMs, k++) {
    if (k % p === 0) round = shuffled(policies, random);
    const r = k % p;
    slots.push({ index: k, fromMs: from, toMs: Math.min(lengthMs, from + slotMs), order: [...round.slice(r), ...round.slice(0, r)] });
  }
  return slots;
}

/** A slot's piece of the schedule: what its replay plays, and the original index of each of its steps. */
export interface SlotSchedule {
  /** starts at 0 with the condition in force at the slot's start, then the steps inside the slot, shifted by its start */
  schedule: Schedule;
  /** the original schedule's index of each step of `schedule` */
  steps: number[];
}

export function slotSchedule(s: Schedule, fromMs: number, toMs: number): SlotSchedule {
  const first = stepIndexAt(s, fromMs);
  const steps = [first];
  for (let i = first + 1; i < s.steps.length && s.steps[i]!.atMs < toMs; i++) steps.push(i);
  return {
    schedule: {
      trace: s.trace,
      steps: steps.map((i, j) => ({ atMs: j === 0 ? 0 : s.steps[i]!.atMs - fromMs, condition: j === 0 ? conditionAt(s, fromMs) : s.steps[i]!.condition })),
      lengthMs: toMs - fromMs,
    },
    steps,
  };
}

/**
 * Plays a plan: slot after slot, its policies in its order, each turn with that policy's own state
 * (made once, before the first slot: what it learned carries over to its next slot); `done` as
 * soon as a policy's last slot is played (the sequential replay: as each policy ends), `between`
 * after each slot but the last.
 */
export async function playSlots<S>(
  plan: readonly Slot[],
  states: ReadonlyMap<string, S>,
  turn: (state: S, slot: Slot, pos: number) => Promise<void>,
  done: (state: S) => Promise<void>,
  between: (slot: Slot) => void = () => undefined,
): Promise<void> {
  const last = plan.at(-1);
  for (const slot of plan) {
    for (const [pos, name] of slot.order.entries()) {
      const state = states.get(name);
      if (state === undefined) throw new Error(`bug: slot ${slot.index} names ${name}, which has no state`);
      await turn(state, slot, pos);
      if (slot === last) await done(state);
    }
    if (slot !== last) between(slot);
  }
}
