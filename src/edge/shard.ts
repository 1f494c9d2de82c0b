import { conditionKey, type Condition } from '../conditions/condition.js';
import { UserError } from '../errors.js';
import { type PlanRecord, type RaceMeta, type ShardRecord, planHash } from '../results/plan.js';

/**
 * Sharding: one sweep split into N independent runs on N edge-cloud pairs.
 *
 * The plan's cells, in sweep order (condition by condition, every point under each), are cut into
 * N contiguous runs. Contiguous keeps each shard's condition changes few (stress must settle at
 * each one); the cut positions minimise the largest estimated shard time, so shards are balanced
 * by time, not by cell count. Everything here is pure arithmetic on the plan: the same plan gives
 * the same partition on every machine.
 */

/** The whole sweep, as every shard of it sees it. */
export interface PlanSpec {
  network: string;
  fingerprint: string;
  conditions: Condition[];
  /** names of the measured points, in sweep order */
  cuts: string[];
  reps: number;
  warmup: number;
  /** the scenario label when not single (plans of single runs hash as before scenarios existed) */
  scenario?: string;
  /** --race: how each condition's points are raced (plans of exhaustive sweeps hash as before racing existed) */
  race?: RaceMeta;
}

export interface ShardSpec {
  /** 1-based */
  index: number;
  count: number;
}

export function planRecord(p: PlanSpec): PlanRecord {
  const body = { network: p.network, fingerprint: p.fingerprint, conditions: p.conditions.map(conditionKey), cuts: p.cuts, reps: p.reps, warmup: p.warmup, ...(p.scenario === undefined ? {} : { scenario: p.scenario }), ...(p.race === undefined ? {} : { race: p.race }) };
  return { hash: planHash(body), ...body };
}

// ---- parsing ----------------------------------------------------------------------------------

/** `--shard K/N`. */
export function parseShard(value: string): ShardSpec {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(value);
  if (!m) throw new UserError(`--shard must be K/N (shard K of N, counted from 1), e.g. --shard 2/8; got '${value}'`);
  return checkedShard(Number(m[1]), Number(m[2]), `--shard ${value}`);
}

function checkedShard(index: number, count: number, what: string): ShardSpec {
  if (count < 1 || count > 100_000) throw new UserError(`${what}: the number of shards must be between 1 and 100000`);
  if (index < 1 || index > count) throw new UserError(`${what}: K must be between 1 and ${count} (shards are counted from 1)`);
  return { index, count };
}

/**
 * The shard to run: --shard K/N, else from a batch system's environment: a Slurm job array
 * (SLURM_ARRAY_TASK_ID with SLURM_ARRAY_TASK_COUNT or --shards N; task ids must count from 0 or 1)
 * or a Kubernetes Indexed Job (JOB_COMPLETION_INDEX, counted from 0, with --shards N).
 * undefined = not sharded.
 */
export function resolveShard(flag: string | undefined, shards: number | undefined, env: NodeJS.ProcessEnv): ShardSpec | undefined {
  if (flag !== undefined) {
    const s = parseShard(flag);
    if (shards !== undefined && shards !== s.count) throw new UserError(`--shard ${flag} and --shards ${shards} disagree on the number of shards: give one of them`);
    return s;
  }
  const k8s = env.JOB_COMPLETION_INDEX;
  const slurm = env.SLURM_ARRAY_TASK_ID;
  if (k8s !== undefined && k8s !== '') {
    const i = envInt(k8s, 'JOB_COMPLETION_INDEX');
    if (shards === undefined) throw new UserError('JOB_COMPLETION_INDEX is set (a Kubernetes Indexed Job) but not the number of shards: pass --shards N (the Job\'s completions)');
    return checkedShard(i + 1, shards, `JOB_COMPLETION_INDEX=${k8s}`);
  }
  if (slurm !== undefined && slurm !== '') {
    const id = envInt(slurm, 'SLURM_ARRAY_TASK_ID');
    const fromEnv = env.SLURM_ARRAY_TASK_COUNT ? envInt(env.SLURM_ARRAY_TASK_COUNT, 'SLURM_ARRAY_TASK_COUNT') : undefined;
    const count = shards ?? fromEnv;
    if (count === undefined) throw new UserError('SLURM_ARRAY_TASK_ID is set but neither SLURM_ARRAY_TASK_COUNT nor --shards N: pass --shards N');
    // --array=0-(N-1) and --array=1-N are both common; the array's minimum tells which one is used.
    const min = env.SLURM_ARRAY_TASK_MIN ? envInt(env.SLURM_ARRAY_TASK_MIN, 'SLURM_ARRAY_TASK_MIN') : 0;
    if (min !== 0 && min !== 1) throw new UserError(`SLURM_ARRAY_TASK_MIN=${min}: the array does not start at task 0 or 1, so its ids do not say the shard: pass --shard K/N (or submit --array=0-${count - 1})`);
    return checkedShard(id - min + 1, count, `SLURM_ARRAY_TASK_ID=${slurm}`);
  }
  if (shards !== undefined) throw new UserError('--shards N needs the shard index: --shard K/N, or SLURM_ARRAY_TASK_ID / JOB_COMPLETION_INDEX from the batch system');
  return undefined;
}

function envInt(v: string, name: string): number {
  if (!/^\d+$/.test(v.trim())) throw new UserError(`${name}='${v}' is not a non-negative integer`);
  return Number(v);
}

// ---- time estimate ----------------------------------------------------------------------------

/**
 * Nominal figures of the estimate. They only rank and balance cells, so they need to be right in
 * proportion, not in absolute terms; --dry-run prints the resulting times as estimates.
 */
export const ESTIMATE = {
  /**
   * multiply-accumulates per second of one end: chosen so that VGG16's full grid comes out at
   * about a day on one pair, the order of today's wasm runs (about 1.5 s per full inference);
   * not measured on this machine
   */
  macsPerSecond: 10e9,
  /** the unshaped link, Mbit/s */
  unshapedMbit: 1000,
  /** fixed cost of a sample: framing, scheduling, the reply */
  sampleOverheadMs: 2,
  /** putting a condition in effect: stressors start and are checked, tc changes */
  settleMs: 2000,
  /** extra settle per 100 % of memory stress (allocating and touching the memory) */
  memorySettleMs: 4000,
} as const;

/** Per point, what the estimate needs: the work on each side and the bytes that cross. */
export interface PointCost {
  edgeMacs: number;
  cloudMacs: number;
  bytes: number;
}

/** Estimated time of one sample at a point under a condition, ms. */
export function sampleMs(p: PointCost, c: Condition): number {
  const rate = (c.net ?? ESTIMATE.unshapedMbit) * (1 - Math.min(c.loss, 90) / 100);
  const transfer = (p.bytes * 8) / (rate * 1000) + 2 * c.delay + c.jitter;
  // CPU stress at P % shares the cores with inference: P=100 roughly halves its speed.
  const edge = ((p.edgeMacs / ESTIMATE.macsPerSecond) * 1000 * (100 + c.ecpu)) / 100;
  const cloud = ((p.cloudMacs / ESTIMATE.macsPerSecond) * 1000 * (100 + c.ccpu)) / 100;
  return edge + transfer + cloud + ESTIMATE.sampleOverheadMs;
}

export function settleMs(c: Condition): number {
  return ESTIMATE.settleMs + (ESTIMATE.memorySettleMs * (c.emem + c.cmem)) / 100;
}

/** Estimated time of every cell in sweep order, ms. */
export function cellCosts(conditions: Condition[], points: PointCost[], samplesPerCell: number): number[] {
  const out: number[] = [];
  for (const c of conditions) for (const p of points) out.push(samplesPerCell * sampleMs(p, c));
  return out;
}

// ---- partition --------------------------------------------------------------------------------

export interface Partition {
  /** first cell of each shard, then the number of cells (length N+1) */
  bounds: number[];
  /** estimated time of each shard, ms (cells plus one settle per condition it touches) */
  predictedMs: number[];
  /** conditions each shard puts in effect */
  conditionChanges: number[];
}

/**
 * Cuts cells (in sweep order, `costs[i]` ms each, `cutsPerCondition` per condition) into `n`
 * non-empty contiguous shards whose largest estimated time is as small as possible.
 */
export function partitionCells(costs: readonly number[], cutsPerCondition: number, settle: readonly number[], n: number): Partition {
  const cells = costs.length;
  if (n < 1) throw new UserError('the number of shards must be at least 1');
  if (n > cells) throw new UserError(`${n} shards for ${cells} cells: at least one shard would have nothing to measure; use at most ${cells} shards`);
  const shardCost = rangeCost(costs, cutsPerCondition, settle);

  // Smallest bottleneck B such that greedy chunking needs at most n shards: found by bisection
  // between the dearest single cell and the whole sweep (the chunk cost only grows as it grows).
  let lo = 0;
  for (let i = 0; i < cells; i++) lo = Math.max(lo, shardCost(i, i + 1));
  let hi = shardCost(0, cells);
  for (let iter = 0; iter < 60 && hi - lo > 1e-6 * hi; iter++) {
    const mid = (lo + hi) / 2;
    if (greedy(mid).length - 1 <= n) hi = mid;
    else lo = mid;
  }
  const bounds = greedy(hi);
  // Fewer shards than asked: split the dearest multi-cell shard at its balanced middle (never raises the maximum).
  while (bounds.length - 1 < n) {
    let best = -1;
    for (let k = 0; k < bounds.length - 1; k++) {
      if (bounds[k + 1]! - bounds[k]! < 2) continue;
      if (best < 0 || shardCost(bounds[k]!, bounds[k + 1]!) > shardCost(bounds[best]!, bounds[best + 1]!)) best = k;
    }
    const from = bounds[best]!;
    const to = bounds[best + 1]!;
    let split = from + 1;
    while (split + 1 < to && shardCost(from, split + 1) < shardCost(split + 1, to)) split++;
    bounds.splice(best + 1, 0, split);
  }
  const predictedMs: number[] = [];
  const conditionChanges: number[] = [];
  for (let k = 0; k < n; k++) {
    predictedMs.push(shardCost(bounds[k]!, bounds[k + 1]!));
    conditionChanges.push(Math.floor((bounds[k + 1]! - 1) / cutsPerCondition) - Math.floor(bounds[k]! / cutsPerCondition) + 1);
  }
  return { bounds, predictedMs, conditionChanges };

  function greedy(limit: number): number[] {
    const b = [0];
    let from = 0;
    for (let i = 1; i <= cells; i++) {
      if (i < cells && shardCost(from, i + 1) <= limit) continue;
      b.push(i);
      from = i;
    }
    return b;
  }
}

/** Cost of cells from..to-1 plus the settle time of every condition they touch, in O(1) from prefix sums. */
function rangeCost(costs: readonly number[], perCondition: number, settle: readonly number[]): (from: number, to: number) => number {
  const cellSum = [0];
  for (const c of costs) cellSum.push(cellSum[cellSum.length - 1]! + c);
  const settleSum = [0];
  for (const s of settle) settleSum.push(settleSum[settleSum.length - 1]! + s);
  return (from, to) => {
    const first = Math.floor(from / perCondition);
    const last = Math.floor((to - 1) / perCondition);
    return cellSum[to]! - cellSum[from]! + settleSum[last + 1]! - settleSum[first]!;
  };
}

// ---- the plan of a run ------------------------------------------------------------------------

export interface ShardedPlan {
  plan: PlanRecord;
  partition: Partition;
}

/** The plan record and its partition into `count` shards (1 = the whole sweep in one run). */
export function shardPlan(spec: PlanSpec, points: PointCost[], count: number): ShardedPlan {
  const costs = cellCosts(spec.conditions, points, spec.warmup + spec.reps);
  return { plan: planRecord(spec), partition: partitionCells(costs, spec.cuts.length, spec.conditions.map(settleMs), count) };
}

/** The shard's record for the results file. */
export function shardRecord(p: Partition, shard: ShardSpec): ShardRecord {
  return { index: shard.index, count: shard.count, bounds: p.bounds, predicted_s: Math.round(p.predictedMs[shard.index - 1]! / 1000) };
}
