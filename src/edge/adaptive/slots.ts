import type { Schedule } from '../../conditions/trace.js';
import { conditionAt, stepIndexAt } from '../../conditions/trace.js';
import { rng, shuffled } from '../../random.js';
import { epochMs } from '../../conditions/trace-replay.js';

/**
 * Interleaved replay (--policy-slot S): the trace is cut into slots of S seconds of trace time, and
 * in each slot every policy in turn replays that slot, in an order shuffled per slot (seeded), each
 * keeping its own state across its slots. Background load that drifts over minutes then hits every
 * policy within about P x S seconds alike, instead of one policy's whole minute. The plan and each
 * slot's piece of the schedule are pure; playSlots and playReplay are the loop both tiers' replays
 * (stream.ts, tier-replay.ts) play them with.
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
 * the length is not a multiple. Their orders follow Williams' design (a crossover design balanced
 * for carryover) over the policies shuffled afresh per round (seeded): in each round every policy
 * takes every place equally often (a slot's later places run later in wall time: drift within a
 * slot does not favour one policy) and directly follows every other policy equally often (what the
 * one before leaves on the machine, its arm's sessions warm or its garbage, does not favour one
 * policy). A round is P slots for an even number P of policies, 2P for an odd one (a square and its
 * mirror, their rows alternated, so that a run shorter than a round is balanced nearly as well).
 * Before (2026-12-05), one shuffle rotated by a place per slot kept every policy behind the same
 * one for a whole round: on the 10x onnx edge `static:act_softmax` followed an edge-only policy in
 * 11 of 12 turns and `adaptive` in 4 (file 231755Z), and such turns' edge-only requests ran 3.4 %
 * faster there.
 */
export function slotPlan(lengthMs: number, slotMs: number | null, policies: readonly string[], seed: number): Slot[] {
  if (slotMs === null) return [{ index: 0, fromMs: 0, toMs: lengthMs, order: [...policies] }];
  if (!(slotMs > 0)) throw new Error(`bug: a slot of ${slotMs} ms`);
  const random = rng(seed);
  const slots: Slot[] = [];
  let round: string[][] = [];
  for (let from = 0, k = 0, r = 0; from < lengthMs; from += slotMs, k++, r++) {
    if (r === round.length) {
      const names = shuffled(policies, random);
      round = williamsRows(policies.length, random).map((row) => row.map((i) => names[i]!));
      r = 0;
    }
    slots.push({ index: k, fromMs: from, toMs: Math.min(lengthMs, from + slotMs), order: round[r]! });
  }
  return slots;
}

/**
 * Williams' rows for p treatments, in a seeded order: the cyclic Latin square whose first row is
 * 0, 1, p-1, 2, p-2, ... (p even: every treatment directly follows every other once in its p
 * rows); p odd: with its mirror (each twice in 2p rows), square and mirror rows alternated.
 */
function williamsRows(p: number, random: () => number): number[][] {
  const first = [0];
  for (let k = 1; first.length < p; k++) {
    first.push(k);
    if (first.length < p) first.push(p - k);
  }
  const square = shuffled(
    first.map((_, i) => first.map((v) => (v + i) % p)),
    random,
  );
  if (p % 2 === 0) return square;
  const mirror = shuffled(
    square.map((row) => [...row].reverse()),
    random,
  );
  return square.flatMap((row, i) => [row, mirror[i]!]);
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

/** A policy's state as the replay loop needs it: its request lines, how many are written, its recorder. */
export interface TurnState {
  requests: unknown[];
  written: number;
  recorder: { destroy(): void };
}

/**
 * The replay's loop around playSlots, one for both tiers' replays (stream.ts, tier-replay.ts): each
 * turn (pos null when there is one slot: the sequential replay), then, interleaved, its new request
 * lines to `writeTurn` as the turn ends (a run stopped later keeps them); `done` after a state's
 * last slot; each slot's end logged; a state never done (a run stopped) has its recorder released.
 */
export async function playReplay<S extends TurnState>(
  plan: readonly Slot[],
  states: ReadonlyMap<string, S>,
  log: (line: string) => void,
  turn: (state: S, slot: Slot, pos: number | null) => Promise<void>,
  writeTurn: ((requests: S['requests']) => Promise<void>) | undefined,
  done: (state: S) => Promise<void>,
): Promise<void> {
  const interleaved = plan.length > 1;
  const began = epochMs();
  const finished = new Set<S>();
  try {
    await playSlots(
      plan,
      states,
      async (state, slot, pos) => {
        await turn(state, slot, interleaved ? pos : null);
        if (interleaved && writeTurn) {
          await writeTurn(state.requests.slice(state.written) as S['requests']);
          state.written = state.requests.length;
        }
      },
      async (state) => {
        finished.add(state);
        await done(state);
      },
      (slot) => log(`slot ${slot.index + 1}/${plan.length} done (${(slot.toMs / 1000).toFixed(1)} s of the trace) after ${((epochMs() - began) / 1000).toFixed(0)} s`),
    );
  } finally {
    for (const state of states.values()) if (!finished.has(state)) state.recorder.destroy();
  }
}
