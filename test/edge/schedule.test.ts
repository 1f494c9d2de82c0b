// test-process: shared (pure: no backend, environment, signal handlers or children; see test/run-shared.ts)
import t from 'tap';
import { NO_CONDITION, conditionKey, type Condition } from '../../src/conditions/condition.js';
import { conditionRandom, cycleOrders, orderConditions, runSteps } from '../../src/edge/schedule.js';
import { rng } from '../../src/random.js';

const c = (net: number | null, ecpu: number): Condition => ({ ...NO_CONDITION, net, ecpu });
const keys = (cs: Condition[]) => cs.map((x) => `${x.net}/${x.ecpu}`);
// a factorial as the grid lists it: rate-major
const GRID = [c(10, 0), c(10, 50), c(10, 100), c(50, 0), c(50, 50), c(50, 100)];

t.test('conditions: blocks of one rate, baseline first, shuffled within a block from the seed', async (t) => {
  t.same(keys(orderConditions(GRID, 'sequential', 1)), ['50/0', '50/50', '50/100', '10/0', '10/50', '10/100'], 'the baseline (50 Mbit/s, no stress) leads');
  const a = orderConditions(GRID, 'randomized', 42);
  t.same(keys(a), keys(orderConditions(GRID, 'randomized', 42)), 'the same seed, the same order');
  t.equal(a[0], GRID[3], 'the baseline stays first');
  t.same(new Set(keys(a.slice(0, 3))), new Set(['50/0', '50/50', '50/100']), 'one rate change only');
  const orders = new Set([1, 2, 3, 4, 5, 6, 7, 8].map((s) => keys(orderConditions(GRID, 'randomized', s)).join()));
  t.ok(orders.size > 2, `seeds give different orders (${orders.size})`);
});

t.test('references: after the baseline, every K conditions, and at the end', async (t) => {
  const kinds = (every: number) => runSteps(GRID, every).map((s) => (s.kind === 'reference' ? `R${s.ref}` : 'c')).join(' ');
  t.equal(kinds(2), 'c R0 c c R1 c c R2 c R3');
  t.equal(kinds(5), 'c R0 c c c c c R1');
  t.equal(kinds(0), 'c c c c c c');
  t.equal(runSteps(GRID.slice(0, 1), 4).length, 2, 'a single condition: measured, then its reference');
});

t.test('points: every cycle holds every point once, in a shuffled order', async (t) => {
  const cycles = cycleOrders(['a', 'b', 'c', 'd'], 50, rng(3));
  t.ok(cycles.every((cy) => [...cy].sort().join() === 'a,b,c,d'));
  const firsts = new Set(cycles.map((cy) => cy[0]));
  t.equal(firsts.size, 4, 'each point leads some cycle: drift hits them alike');
  const r1 = conditionRandom(9, GRID[0]!);
  const r2 = conditionRandom(9, GRID[0]!);
  t.equal(r1(), r2(), 'a resumed run draws the same order for a condition');
  t.not(conditionRandom(9, GRID[1]!)(), conditionRandom(9, GRID[0]!)());
  t.not(conditionKey(GRID[0]!), conditionKey(GRID[1]!));
});
