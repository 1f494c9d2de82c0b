import t from 'tap';
import { NO_CONDITION, type Condition } from '../../src/conditions/condition.js';
import { ADAPTIVE_DEFAULTS, AdaptivePolicy, OraclePolicy, autoStaticCuts, parsePolicies, probePoint } from '../../src/edge/adaptive/policy.js';
import type { CellStats, NetworkData } from '../../src/analysis/cells.js';
import { fitCostModel, predictCondition, wireBytes, wireMs, type CostModel } from '../../src/analysis/cost-model.js';

/** A profile with a known answer: cloud-only (600 KB) wins above ~3.2 Gbit/s, mid (60 KB) from ~40 Mbit/s, out (edge-only) below. */
const POINTS = [
  { cut: 'input', index: 0, bytes: 600_000, edge: 0.1, cloud: 30, fixed: 1 },
  { cut: 'mid', index: 5, bytes: 60_000, edge: 20, cloud: 12, fixed: 0.5 },
  { cut: 'out', index: 9, bytes: 4_000, edge: 45, cloud: 0, fixed: 0 },
];
const times = (p: (typeof POINTS)[number], c: Condition, edgeSlow = 1) => {
  const edge = p.edge * edgeSlow;
  if (p.cloud === 0) return { edge, transfer: 0, cloud: 0 };
  return { edge, transfer: p.fixed + wireMs(wireBytes([1, p.bytes / 4]), c.net), cloud: p.cloud };
};

function model(): CostModel {
  const stat = (v: number) => ({ p50: v, p95: v, mean: v, samples: 5 });
  const data: NetworkData = {
    network: 'known',
    cuts: POINTS.map(({ cut, index, bytes }) => ({ cut, index, bytes })),
    sources: [],
    conditions: [50, 10].map((net) => {
      const condition = { ...NO_CONDITION, net };
      const cells = new Map<string, CellStats>();
      for (const p of POINTS) {
        const x = times(p, condition);
        cells.set(p.cut, { edge: stat(x.edge), transfer: stat(x.transfer), cloud: stat(x.cloud), total: stat(x.edge + x.transfer + x.cloud) });
      }
      return { condition, cells };
    }),
  };
  return fitCostModel(data, 'p50') as CostModel;
}

/** Drives a policy through a rate timeline, the requests' times coming from the same known link. */
function drive(m: CostModel, rates: number[], edgeSlow = 1) {
  const p = new AdaptivePolicy(m, undefined, rates[0]!);
  const oracle = new OraclePolicy(m);
  const chosen: string[] = [];
  let agree = 0;
  rates.forEach((net, i) => {
    const c = { ...NO_CONDITION, net };
    const probe = p.probe(i * 250);
    if (probe) {
      const x = times(POINTS.find((q) => q.cut === probe)!, c);
      p.observe({ cut: probe, edge_ms: NaN, transfer_ms: x.transfer, cloud_ms: x.cloud, probe: true });
    }
    const cut = p.choose();
    const x = times(POINTS.find((q) => q.cut === cut)!, c, edgeSlow);
    p.observe({ cut, edge_ms: x.edge, transfer_ms: x.transfer, cloud_ms: x.cloud });
    chosen.push(cut);
    if (cut === oracle.choose(c)) agree++;
  });
  return { chosen, agree: agree / rates.length, switches: chosen.filter((c, i) => i > 0 && c !== chosen[i - 1]).length, policy: p };
}

t.test('adaptive follows the rate, learns it from transfers, and does not flap', async (t) => {
  const m = model();
  const best = (net: number) => new OraclePolicy(m).choose({ ...NO_CONDITION, net });
  t.same([5000, 100, 5].map(best), ['input', 'mid', 'out'], 'the oracle knows the answer per rate');
  const rates = [...Array(20).fill(5000), ...Array(20).fill(100), ...Array(20).fill(5), ...Array(20).fill(100)];
  const r = drive(m, rates);
  t.ok(r.agree >= 0.8, `oracle's choice in ${(100 * r.agree).toFixed(0)} % of requests`);
  t.ok(r.switches <= 6, `${r.switches} switches for 3 changes of the rate`);
  t.equal(r.chosen.at(-1), 'mid', 'back on mid once the link recovers (probes while edge-only)');
  const est = r.policy.estimate().rate!;
  t.ok(est > 50 && est < 200, `rate estimate ${est.toFixed(1)} Mbit/s at 100`);
  // Noise around a threshold does not make it flap.
  const threshold = rates.map((_, i) => (i % 2 ? 44 : 36));
  t.ok(drive(m, threshold).switches <= 2, 'alternating rates near a threshold: at most 2 switches');
});

t.test('adaptive sees a slower edge from observed compute', async (t) => {
  const m = model();
  // At 100 Mbit/s mid is best; with the edge 4x slower, cloud-only wins.
  const r = drive(m, Array(30).fill(100), 4);
  t.equal(r.chosen.at(-1), 'input');
  t.ok(r.policy.estimate().edgeSlowdown > 3, `edge slowdown ${r.policy.estimate().edgeSlowdown.toFixed(2)}`);
});

t.test('adaptive: the edge\'s near-nothing at cloud-only does not read as a faster edge', async (t) => {
  const m = model();
  const p = new AdaptivePolicy(m, undefined, 5000);
  const c = { ...NO_CONDITION, net: 5000 };
  for (let i = 0; i < 20; i++) {
    const cut = p.choose();
    const x = times(POINTS.find((q) => q.cut === cut)!, c);
    // cloud-only's edge part (0.1 ms profiled) observed at 0.02 ms: jitter of a no-op, not a 5x faster edge
    p.observe({ cut, edge_ms: cut === 'input' ? 0.02 : x.edge, transfer_ms: x.transfer, cloud_ms: x.cloud });
    t.equal(cut, 'input', `request ${i}: stays cloud-only`);
  }
  t.equal(p.estimate().edgeSlowdown, 1, 'edge slowdown unchanged');
});

t.test('adaptive: link probes while edge-only take at most a tenth of the time', async (t) => {
  const m = model();
  const p = new AdaptivePolicy(m, undefined, 1);
  const c = { ...NO_CONDITION, net: 1 };
  const probesAt: number[] = [];
  const chosen = new Set<string>();
  for (let now = 0; now < 60_000; now += 50) {
    const probe = p.probe(now);
    if (probe) {
      probesAt.push(now);
      const x = times(POINTS.find((q) => q.cut === probe)!, c);
      p.observe({ cut: probe, edge_ms: NaN, transfer_ms: x.transfer, cloud_ms: x.cloud, probe: true });
    }
    const cut = p.choose();
    chosen.add(cut);
    p.observe({ cut, edge_ms: 45, transfer_ms: 0, cloud_ms: 0 });
  }
  t.same([...chosen], ['out'], 'edge-only at 1 Mbit/s throughout');
  // a probe of mid (60 KB at 1 Mbit/s: ~0.5 s with the cloud's 12 ms) every ~5 s, not every 1 s
  const cost = times(POINTS[1]!, c).transfer + POINTS[1]!.cloud;
  const gaps = probesAt.slice(2).map((v, i) => v - probesAt[i + 1]!);
  t.ok(gaps.every((g) => g >= cost / ADAPTIVE_DEFAULTS.probeShare - 50), `probe gaps ${Math.min(...gaps)}-${Math.max(...gaps)} ms for probes of ${cost.toFixed(0)} ms`);
  t.ok(gaps.every((g) => g > 4000), 'so about every 5 s');
  t.ok(probesAt.length >= 10, `still probing (${probesAt.length} probes in 60 s)`);
});

t.test('static:auto, probe point and --policies parsing', async (t) => {
  const m = model();
  t.equal(probePoint(m), 'mid', 'the smallest tensor of at least 16 KB');
  t.same(autoStaticCuts(m, 20, 50), ['input', 'out', 'mid'], 'cloud-only, edge-only, best at 50 (mid), best at 20 (mid): deduplicated');
  const cuts = m.cuts.map((c) => c.cut);
  t.same(parsePolicies('adaptive,oracle,static:auto', cuts, () => ['input', 'out']), ['adaptive', 'oracle', 'static:input', 'static:out']);
  t.throws(() => parsePolicies('static:nope', cuts, () => []), /--policies: nope is not a profiled partition point \(input, mid, out\)/);
  t.throws(() => parsePolicies('greedy', cuts, () => []), /unknown policy 'greedy'/);
  t.throws(() => parsePolicies('adaptive,,oracle', cuts, () => []), /empty entry/);
  t.ok(predictCondition(m, { ...NO_CONDITION, net: 20 }).length === 3);
});
