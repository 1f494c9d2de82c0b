/**
 * The plan of a sweep and a shard of it, as results files record them (`plan` and `shard` in the
 * `#dnn-meta` line). Cells are numbered in sweep order: condition by condition, every point under each.
 * The schemas are the one definition of both records: types, checks and docs/results-format.md.
 */
import { createHash } from 'node:crypto';
import { type Static, Type } from '@sinclair/typebox';

/** How a raced sweep (dnn-edge --race) raced each condition's points: in the metadata (`race`) and its plan. */
export const RaceMetaSchema = Type.Object(
  {
    min_reps: Type.Integer({ minimum: 1, description: 'samples every point got before it could leave the race (--min-reps)' }),
    prior: Type.Union([Type.Number({ exclusiveMinimum: 1 }), Type.Null()], { description: 'points the cost model predicted above this many times the best started with 1 sample (--race-prior); null: no prior (--race-prior off)' }),
    confidence: Type.Number({ exclusiveMinimum: 0, exclusiveMaximum: 1, description: "the elimination test's confidence (the report's default), Bonferroni-corrected over the points still in the race minus one and over `looks`" }),
    looks: Type.Optional(Type.Integer({ minimum: 1, description: "how many times a condition's race may test (after each cycle from min_reps to reps - 1): each test runs at (1 - confidence) / (points - 1) / looks" })),
  },
  { description: 'present when the sweep raced its points (dnn-edge --race); absent: every point got every rep' },
);
export type RaceMeta = Static<typeof RaceMetaSchema>;

/** A three-tier sweep's configurations (dnn-edge --tiers 3), in the plan: absent for two tiers, so their plans hash as before. */
export const PlanTiersSchema = Type.Object(
  {
    count: Type.Literal(3, { description: 'tiers: device, edge, cloud' }),
    configs: Type.Array(Type.String(), { description: "the measured configurations 'x|y' (x, y: points of cuts), in sweep order" }),
  },
  { description: 'three-tier sweeps (--tiers 3): the configurations measured in each condition; absent: two tiers' },
);

export const PlanRecordSchema = Type.Object({
  hash: Type.String({ description: 'hash of network, fingerprint, conditions, points, reps and warm-up: equal hash = same sweep' }),
  network: Type.String({ description: 'the network the sweep measures' }),
  fingerprint: Type.String({ description: "the model's fingerprint (as in #dnn-meta)" }),
  conditions: Type.Array(Type.String(), { description: 'conditionKey() of each condition, in sweep order' }),
  cuts: Type.Array(Type.String(), { description: 'names of the measured points, in sweep order' }),
  reps: Type.Integer({ minimum: 0, description: 'recorded samples per cell' }),
  warmup: Type.Integer({ minimum: 0, description: 'unrecorded runs before each point' }),
  scenario: Type.Optional(Type.String({ description: 'the load scenario of every cell (--scenario stream:FPS, server:RATE or max); absent for single' })),
  race: Type.Optional(RaceMetaSchema),
  tiers: Type.Optional(PlanTiersSchema),
});
export type PlanRecord = Static<typeof PlanRecordSchema>;

/** The hash of a plan's other fields (16 hex digits): equal hash = same sweep, on every machine. */
export function planHash(p: Omit<PlanRecord, 'hash'>): string {
  // a single plan hashes as before scenarios existed
  // ... and an exhaustive one as before racing existed, and a two-tier one as before three tiers existed
  const body = { network: p.network, fingerprint: p.fingerprint, conditions: p.conditions, cuts: p.cuts, reps: p.reps, warmup: p.warmup, ...(p.scenario === undefined ? {} : { scenario: p.scenario }), ...(p.race === undefined ? {} : { race: p.race }), ...(p.tiers === undefined ? {} : { tiers: p.tiers }) };
  return createHash('sha256').update(JSON.stringify(body)).digest('hex').slice(0, 16);
}

export const ShardRecordSchema = Type.Object({
  index: Type.Integer({ minimum: 1, description: '1-based: shard K of N' }),
  count: Type.Integer({ minimum: 1, description: 'N, the number of shards of the plan' }),
  bounds: Type.Array(Type.Integer({ minimum: 0 }), {
    description: 'first cell of each shard, then the number of cells: shard k owns cells bounds[k-1] .. bounds[k]-1',
  }),
  predicted_s: Type.Number({ minimum: 0, description: 'estimated duration of this shard, seconds' }),
});
export type ShardRecord = Static<typeof ShardRecordSchema>;

/**
 * What the schema cannot say about a plan and its shard: the hash is the plan's, the bounds
 * partition the plan's cells and the shard is one of them. Undefined when consistent, else what is wrong (field path first).
 */
export function shardPlanProblem(plan: PlanRecord | undefined, shard: ShardRecord | undefined): string | undefined {
  // shards are merged by hash: a plan edited by hand would merge with the wrong sweep
  if (plan && plan.hash !== planHash(plan)) return `plan.hash is ${plan.hash}, but the plan's fields hash to ${planHash(plan)} (the plan was edited)`;
  if (!shard) return undefined;
  const { index, count, bounds } = shard;
  if (index > count) return `shard.index is ${index}, more than shard.count ${count}`;
  if (bounds.length !== count + 1) return `shard.bounds has ${bounds.length} numbers, expected shard.count + 1 = ${count + 1}`;
  if (bounds[0] !== 0) return `shard.bounds starts at ${bounds[0]}, expected 0 (the first cell)`;
  for (let k = 1; k < bounds.length; k++) {
    if (bounds[k]! <= bounds[k - 1]!) return `shard.bounds is not increasing at position ${k} (${bounds[k - 1]} then ${bounds[k]}): every shard owns at least one cell`;
  }
  if (!plan) return 'shard is given without plan: a shard is a part of a plan';
  const cells = plan.conditions.length * plan.cuts.length;
  if (bounds.at(-1) !== cells) return `shard.bounds ends at ${bounds.at(-1)}, expected the plan's ${cells} cells (${plan.conditions.length} conditions x ${plan.cuts.length} points)`;
  return undefined;
}

/** Cell i of a plan: indices of its condition and point. */
export function cellAt(plan: Pick<PlanRecord, 'cuts'>, i: number): { condition: number; cut: number } {
  return { condition: Math.floor(i / plan.cuts.length), cut: i % plan.cuts.length };
}

/** Key of cell i, as cellKey() makes it from a condition and a point. */
export function planCellKey(plan: Pick<PlanRecord, 'conditions' | 'cuts'>, i: number): string {
  const { condition, cut } = cellAt(plan, i);
  return `${plan.conditions[condition]!};cut=${plan.cuts[cut]!}`;
}

/** The shard (1-based) that owns cell i. */
export function ownerOf(bounds: readonly number[], i: number): number {
  let lo = 0;
  let hi = bounds.length - 2;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (bounds[mid]! <= i) lo = mid;
    else hi = mid - 1;
  }
  return lo + 1;
}

/** Keys of the cells shard k (1-based) owns. */
export function shardCells(plan: Pick<PlanRecord, 'conditions' | 'cuts'>, bounds: readonly number[], k: number): Set<string> {
  const out = new Set<string>();
  for (let i = bounds[k - 1]!; i < bounds[k]!; i++) out.add(planCellKey(plan, i));
  return out;
}
