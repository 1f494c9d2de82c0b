// test-process: shared
// Three-tier configurations: every x <= y pair in partition order, the "tier unused" ones included;
// --max-configs samples seeded and always keeps the pure configurations.
import t from 'tap';
import type { CutPoint } from '../../src/model/partition.js';
import { configCount, configLabel, enumerateConfigs, isThreeTier, pureConfig } from '../../src/model/tier-configs.js';

const point = (index: number, layer: string, kind: CutPoint['kind'] = 'inner'): CutPoint => ({ index, layer, shape: [1], bytes: 4, kind, edgeParams: 0 });
const points = [point(0, 'input', 'input'), point(2, 'a'), point(5, 'b'), point(7, 'c'), point(9, 'out', 'output')];

t.test('every x <= y pair, in (x, y) order, whatever order the points come in', async (t) => {
  const all = enumerateConfigs([...points].reverse());
  t.equal(all.length, configCount(5));
  t.equal(all.length, 15);
  t.same(all.slice(0, 5).map(configLabel), ['input|input', 'input|a', 'input|b', 'input|c', 'input|out']);
  t.same(all.at(-1) && configLabel(all.at(-1)!), 'out|out');
  t.ok(all.every((c) => c.x.index <= c.y.index), 'x <= y');
  t.same(all.filter(isThreeTier).map(configLabel), ['a|b', 'a|c', 'b|c'], 'three-tier: input < x < y < output');
  t.same(all.filter((c) => pureConfig(c)).map((c) => `${configLabel(c)}=${pureConfig(c)}`), ['input|input=cloud-only', 'input|out=edge-only', 'out|out=device-only']);
  t.equal(pureConfig({ x: points[1]!, y: points[1]! }), undefined, 'x = y inner: device and cloud, two tiers');
});

t.test('--max-configs: that many, seeded, the pure ones kept, (x, y) order kept', async (t) => {
  const many = [point(-1, 'in', 'input'), ...Array.from({ length: 20 }, (_, i) => point(i, `l${i}`)), point(99, 'out', 'output')];
  const all = enumerateConfigs(many);
  t.equal(all.length, 253);
  const a = enumerateConfigs(many, { maxConfigs: 10, seed: 7 });
  t.equal(a.length, 10);
  for (const pure of ['in|in', 'in|out', 'out|out']) t.ok(a.some((c) => configLabel(c) === pure), `${pure} kept`);
  t.same(a.map(configLabel), enumerateConfigs(many, { maxConfigs: 10, seed: 7 }).map(configLabel), 'same seed, same sample');
  t.not(a.map(configLabel).join(), enumerateConfigs(many, { maxConfigs: 10, seed: 8 }).map(configLabel).join(), 'another seed, another sample');
  const order = all.map(configLabel);
  const idx = a.map((c) => order.indexOf(configLabel(c)));
  t.same(idx, [...idx].sort((x, y) => x - y), 'in enumeration order');
  t.equal(enumerateConfigs(many, { maxConfigs: 2 }).length, 3, 'fewer than the pure ones: the pure ones');
  t.equal(enumerateConfigs(many, { maxConfigs: 1000 }).length, 253, 'more than there are: all');
});

t.test('--configs: names or indices, x <= y, one-line errors; tierPoints adds the input and output points', async (t) => {
  const { resolveConfigs, tierPoints } = await import('../../src/model/tier-configs.js');
  t.same(resolveConfigs(points, ['a|c', '2|b', 'a|c'], 'net').map(configLabel), ['a|c', 'a|b'], 'indices too, duplicates dropped');
  t.throws(() => resolveConfigs(points, ['c|a'], 'net'), /'c\|a' has x after y \(c comes after a\).*give a\|c/);
  t.throws(() => resolveConfigs(points, ['a|nope'], 'net'), /--configs: 'nope' is not a partition point.*dnn-cut net/);
  t.same(tierPoints(points, [points[2]!]).map((p) => p.layer), ['input', 'b', 'out']);
});
