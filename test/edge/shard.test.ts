// test-process: shared (pure: no backend, environment, signal handlers or children; see test/run-shared.ts)
import t from 'tap';
import { planConditions } from '../../src/edge/run-selection.js';
import { ownerOf } from '../../src/results/plan.js';
import { cellCosts, partitionCells, planRecord, resolveShard, settleMs, type PointCost } from '../../src/edge/shard.js';

const grid = planConditions({ levels: {}, design: 'factorial', shape: true, quick: false }); // 243 conditions
// A VGG16-like model: 23 points, work grows along the model, the crossing tensor shrinks.
const points: PointCost[] = Array.from({ length: 23 }, (_, i) => {
  const edgeMacs = 15.5e9 * (i / 22) ** 1.3;
  return { edgeMacs, cloudMacs: 15.5e9 - edgeMacs, bytes: i === 22 ? 4000 : Math.round(602112 * 0.8 ** i) };
});
const costs = cellCosts(grid, points, 5);
const settle = grid.map(settleMs);

t.test('every cell belongs to exactly one non-empty shard, in contiguous runs', async (t) => {
  for (const n of [1, 2, 3, 8, 61, 243, 1000]) {
    const p = partitionCells(costs, points.length, settle, n);
    t.equal(p.bounds.length, n + 1, `${n} shards`);
    t.equal(p.bounds[0], 0);
    t.equal(p.bounds[n], costs.length, 'the last shard ends at the last cell');
    t.ok(p.bounds.every((b, k) => k === 0 || b > p.bounds[k - 1]!), 'strictly increasing: no shard empty, no cell twice');
    const owners = new Map<number, number>();
    for (let i = 0; i < costs.length; i++) owners.set(i, ownerOf(p.bounds, i));
    t.equal(owners.size, costs.length);
    t.ok([...owners].every(([i, k]) => i >= p.bounds[k - 1]! && i < p.bounds[k]!), 'ownerOf agrees with the bounds');
  }
});

t.test('deterministic: the same plan gives the same partition and hash', async (t) => {
  const a = partitionCells(costs, points.length, settle, 8);
  const b = partitionCells(cellCosts(grid, points, 5), points.length, grid.map(settleMs), 8);
  t.same(a, b);
  const spec = { network: 'vgg16', fingerprint: 'abc', conditions: grid, cuts: points.map((_, i) => `p${i}`), reps: 5, warmup: 1 };
  t.equal(planRecord(spec).hash, planRecord({ ...spec, conditions: [...grid] }).hash);
  t.match(planRecord(spec).hash, /^[0-9a-f]{16}$/);
  t.not(planRecord(spec).hash, planRecord({ ...spec, reps: 6 }).hash, 'reps are part of the plan');
  t.not(planRecord(spec).hash, planRecord({ ...spec, conditions: grid.slice(1) }).hash, 'conditions are part of the plan');
  t.not(planRecord(spec).hash, planRecord({ ...spec, cuts: spec.cuts.slice(1) }).hash, 'points are part of the plan');
  t.not(planRecord(spec).hash, planRecord({ ...spec, fingerprint: 'abd' }).hash, 'the model is part of the plan');
});

t.test('balanced by estimated time, not by count, with few condition changes', async (t) => {
  const n = 8;
  const p = partitionCells(costs, points.length, settle, n);
  const total = costs.reduce((a, b) => a + b, 0) + settle.reduce((a, b) => a + b, 0);
  const dearestCell = Math.max(...costs) + Math.max(...settle);
  const max = Math.max(...p.predictedMs);
  t.ok(max <= total / n + dearestCell, `largest shard ${(max / 1000).toFixed(0)} s is within one cell of the ideal ${(total / n / 1000).toFixed(0)} s`);
  t.ok(Math.min(...p.predictedMs) >= total / n - 2 * dearestCell, 'and the smallest is not far below it');

  // The same number of cells per shard is visibly worse: slow (10 Mbit/s, cloud-heavy) cells cluster.
  const perShard = Math.ceil(costs.length / n);
  const byCount = Array.from({ length: n }, (_, k) => {
    let s = 0;
    for (let i = k * perShard; i < Math.min(costs.length, (k + 1) * perShard); i++) s += costs[i]!;
    return s;
  });
  t.ok(max < Math.max(...byCount), `time-balanced max ${(max / 1000).toFixed(0)} s < count-balanced max ${(Math.max(...byCount) / 1000).toFixed(0)} s`);
  for (let k = 1; k <= n; k++) {
    const distinct = new Set<number>();
    for (let i = p.bounds[k - 1]!; i < p.bounds[k]!; i++) distinct.add(Math.floor(i / points.length));
    t.equal(p.conditionChanges[k - 1], distinct.size, `shard ${k}: ${distinct.size} conditions to put in effect`);
  }
  // cells dealt out round-robin would make every shard visit every condition
  t.ok(p.conditionChanges.every((c) => c <= 2 * Math.ceil(grid.length / n)), `condition changes per shard: ${p.conditionChanges.join(',')} of ${grid.length}`);
  t.equal(p.conditionChanges.reduce((a, b) => a + b, 0) <= grid.length + n - 1, true, 'each shard boundary adds at most one condition change');
});

t.test('more shards than cells is a user error', async (t) => {
  t.throws(() => partitionCells([1, 2, 3], 3, [0], 4), /4 shards for 3 cells.*at most 3 shards/);
});

t.test('the shard from --shard or the batch system', async (t) => {
  t.equal(resolveShard(undefined, undefined, {}), undefined, 'not sharded');
  t.same(resolveShard('2/8', undefined, {}), { index: 2, count: 8 });
  t.same(resolveShard('2/8', undefined, { SLURM_ARRAY_TASK_ID: '5', JOB_COMPLETION_INDEX: '3' }), { index: 2, count: 8 }, 'the flag wins');
  t.throws(() => resolveShard('0/8', undefined, {}), /counted from 1/);
  t.throws(() => resolveShard('9/8', undefined, {}), /between 1 and 8/);
  t.throws(() => resolveShard('2-8', undefined, {}), /--shard must be K\/N/);
  t.throws(() => resolveShard('2/8', 4, {}), /disagree/);
  t.same(resolveShard(undefined, undefined, { SLURM_ARRAY_TASK_ID: '0', SLURM_ARRAY_TASK_COUNT: '3', SLURM_ARRAY_TASK_MIN: '0' }), { index: 1, count: 3 }, '--array=0-2');
  t.same(resolveShard(undefined, undefined, { SLURM_ARRAY_TASK_ID: '3', SLURM_ARRAY_TASK_COUNT: '3', SLURM_ARRAY_TASK_MIN: '1' }), { index: 3, count: 3 }, '--array=1-3');
  t.throws(() => resolveShard(undefined, 8, { SLURM_ARRAY_TASK_ID: '3', SLURM_ARRAY_TASK_MIN: '3' }), /pass --shard K\/N/, 'a partial rerun (--array=3,5) cannot say its shards');
  t.same(resolveShard(undefined, 4, { SLURM_ARRAY_TASK_ID: '3' }), { index: 4, count: 4 }, 'Slurm with --shards');
  t.throws(() => resolveShard(undefined, undefined, { SLURM_ARRAY_TASK_ID: '1' }), /--shards N/);
  t.same(resolveShard(undefined, 3, { JOB_COMPLETION_INDEX: '2' }), { index: 3, count: 3 }, 'Kubernetes index 2 = shard 3/3');
  t.throws(() => resolveShard(undefined, undefined, { JOB_COMPLETION_INDEX: '0' }), /--shards N/);
  t.throws(() => resolveShard(undefined, 3, { JOB_COMPLETION_INDEX: '3' }), /between 1 and 3/);
  t.throws(() => resolveShard(undefined, 3, {}), /needs the shard index/);
});

t.test('--resume continues only a file of the same plan and shard', async (t) => {
  const { resumeMismatch } = await import('../../src/edge/run-edge.js');
  const meta = (plan?: string, shard?: [number, number]) =>
    ({ ...(plan ? { plan: { hash: plan } } : {}), ...(shard ? { shard: { index: shard[0], count: shard[1] } } : {}) }) as never;
  const s = (index: number, count: number) => ({ index, count, bounds: [], predicted_s: 0 });
  t.equal(resumeMismatch(meta('aa', [2, 3]), 'aa', s(2, 3)), undefined, 'same plan, same shard');
  t.equal(resumeMismatch(meta('aa'), 'aa', undefined), undefined, 'same plan, whole');
  t.equal(resumeMismatch(meta(), 'aa', undefined), undefined, 'a file from before plans: whole run');
  t.match(resumeMismatch(meta('bb', [2, 3]), 'aa', s(2, 3)), /belongs to plan bb, not to this run's plan aa/);
  t.match(resumeMismatch(meta('aa', [1, 3]), 'aa', s(2, 3)), /measured shard 1\/3, but this run is shard 2\/3/);
  t.match(resumeMismatch(meta('aa'), 'aa', s(2, 3)), /measured the whole plan, but this run is shard 2\/3/);
});
