// test-process: shared (pure: no backend, environment, signal handlers or children; see test/run-shared.ts)
import t from 'tap';
import { NO_CONDITION, type Condition } from '../../src/conditions/condition.js';
import { DEFAULT_POLICIES, MODEL_DEFAULTS, ModelPolicy, OraclePolicy, autoStaticCuts, parsePolicies, probePoint } from '../../src/edge/adaptive/policy.js';
import type { CellStats, NetworkData } from '../../src/analysis/cells.js';
import { fitCostModel, frameWireBytes, predictCondition, wireBytes, wireMs, type CostModel } from '../../src/analysis/cost-model.js';
import { DEFAULT_MAX_AGREEMENT_LOSS, judgeArms, restrictArms } from '../../src/analysis/encodings.js';
import { inferFrameBytes } from '../../src/protocol/frame-size.js';
import type { FidelityRecord } from '../../src/results/metadata.js';

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
  const p = new ModelPolicy(m, undefined, rates[0]!);
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

t.test('model follows the rate, learns it from transfers, and does not flap', async (t) => {
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

t.test('model sees a slower edge from observed compute', async (t) => {
  const m = model();
  // At 100 Mbit/s mid is best; with the edge 4x slower, cloud-only wins.
  const r = drive(m, Array(30).fill(100), 4);
  t.equal(r.chosen.at(-1), 'input');
  t.ok(r.policy.estimate().edgeSlowdown > 3, `edge slowdown ${r.policy.estimate().edgeSlowdown.toFixed(2)}`);
});

t.test('model: the edge\'s near-nothing at cloud-only does not read as a faster edge', async (t) => {
  const m = model();
  const p = new ModelPolicy(m, undefined, 5000);
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

t.test('model: link probes while edge-only take at most a tenth of the time', async (t) => {
  const m = model();
  const p = new ModelPolicy(m, undefined, 1);
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
  t.ok(gaps.every((g) => g >= cost / MODEL_DEFAULTS.probeShare - 50), `probe gaps ${Math.min(...gaps)}-${Math.max(...gaps)} ms for probes of ${cost.toFixed(0)} ms`);
  t.ok(gaps.every((g) => g > 4000), 'so about every 5 s');
  t.ok(probesAt.length >= 10, `still probing (${probesAt.length} probes in 60 s)`);
});

t.test('static:auto, probe point and --policies parsing', async (t) => {
  const m = model();
  t.equal(probePoint(m), 'mid', 'the smallest tensor of at least 16 KB');
  t.same(autoStaticCuts(m, 20, 50), ['input', 'out', 'mid'], 'cloud-only, edge-only, best at 50 (mid), best at 20 (mid): deduplicated');
  const cuts = m.cuts.map((c) => c.cut);
  t.same(parsePolicies('adaptive,oracle,static:auto', cuts, () => ['input', 'out']), ['adaptive', 'oracle', 'static:input', 'static:out']);
  t.same(parsePolicies(DEFAULT_POLICIES, cuts, () => ['input', 'out']), ['adaptive', 'model', 'oracle', 'static:input', 'static:out'], 'the default: the learning policy, the model alone, the oracle, static:auto');
  t.same(parsePolicies('model,static:all,static:out', cuts, () => []), ['model', 'static:input', 'static:mid', 'static:out'], 'static:all: every arm in the model\'s order (deduplicated)');
  t.throws(() => parsePolicies('static:nope', cuts, () => []), /--policies: nope is not a profiled partition point or \(point, codec\) arm the policies may choose \(input, mid, out\)/);
  t.throws(() => parsePolicies('greedy', cuts, () => []), /unknown policy 'greedy'; use .*static:all, adaptive, model or oracle/);
  t.throws(() => parsePolicies('adaptive,,oracle', cuts, () => []), /empty entry/);
  t.ok(predictCondition(m, { ...NO_CONDITION, net: 20 }).length === 3);
});

/**
 * Arms: the same three points, plus mid with int8 (a quarter of the bytes, 1.5 ms to encode and
 * decode), mid with brotli (fewer bytes still, but 80 ms to encode) and the input point as a jpeg
 * camera frame (the edge does nothing, the cloud decodes and preprocesses). Around 20 Mbit/s
 * mid@int8 is best: f32 mid sends 4x the bytes, edge-only computes 45 ms.
 */
const ARMS = [
  { cut: 'input', point: 'input', index: 0, frame: 0, edge: 0.1, cloud: 30, fixed: 1, encode: 0, decode: 0 },
  { cut: 'input@jpeg:90', point: 'input', codec: 'jpeg:90', index: 0, frame: 30_000, edge: 0.05, cloud: 30, fixed: 1, encode: 3, decode: 4 },
  { cut: 'mid', point: 'mid', index: 5, frame: 0, edge: 20, cloud: 12, fixed: 0.5, encode: 0, decode: 0 },
  { cut: 'mid@int8', point: 'mid', codec: 'int8', index: 5, frame: 15_000, edge: 20, cloud: 12, fixed: 0.5, encode: 1, decode: 0.5 },
  { cut: 'mid@brotli', point: 'mid', codec: 'brotli', index: 5, frame: 9_000, edge: 20, cloud: 12, fixed: 0.5, encode: 80, decode: 2 },
  { cut: 'out', point: 'out', index: 9, frame: 0, edge: 45, cloud: 0, fixed: 0, encode: 0, decode: 0 },
];
type KnownArm = (typeof ARMS)[number];
const armBytes = (a: KnownArm) => (a.frame ? frameWireBytes(a.frame) : wireBytes([1, POINTS.find((p) => p.cut === a.point)!.bytes / 4]));
const armTimes = (a: KnownArm, net: number, edgeSlow = 1) => ({
  edge: a.edge * edgeSlow,
  transfer: a.cloud === 0 ? 0 : a.fixed + wireMs(armBytes(a), net),
  cloud: a.cloud,
  bytes: a.cloud === 0 ? 0 : a.frame || POINTS.find((p) => p.cut === a.point)!.bytes,
});

function armData(fidelity: FidelityRecord[] = []): NetworkData {
  const stat = (v: number) => ({ p50: v, p95: v, mean: v, samples: 5 });
  return {
    network: 'known-arms',
    cuts: ARMS.map((a) => ({ cut: a.cut, index: a.index, bytes: POINTS.find((p) => p.cut === a.point)!.bytes, ...(a.codec ? { point: a.point, codec: a.codec } : {}) })),
    sources: [],
    fidelity,
    conditions: [50, 10].map((net) => {
      const condition = { ...NO_CONDITION, net };
      const cells = new Map<string, CellStats>();
      for (const a of ARMS) {
        const x = armTimes(a, net);
        const total = x.edge + x.transfer + x.cloud + a.encode + a.decode;
        // a run with codecs records encode, decode and bytes in every cell (f32: 0 and the raw frame)
        const frame = a.cloud === 0 ? 0 : a.frame || inferFrameBytes([1, POINTS.find((p) => p.cut === a.point)!.bytes / 4]);
        cells.set(a.cut, { edge: stat(x.edge), transfer: stat(x.transfer), cloud: stat(x.cloud), total: stat(total), encode: stat(a.encode), decode: stat(a.decode), bytes: stat(frame) });
      }
      return { condition, cells };
    }),
  };
}

const fit = (data: NetworkData) => fitCostModel(data, 'p50') as CostModel;

t.test('arms: a slow link makes the encoded arm best; its encode and decode count', async (t) => {
  const m = fit(armData());
  const oracle = new OraclePolicy(m);
  const best = (net: number) => oracle.choose({ ...NO_CONDITION, net });
  t.same([5000, 20, 2].map(best), ['input', 'mid@int8', 'out'], 'cloud-only on a fast link, mid@int8 at 20 Mbit/s, edge-only at 2');
  const p = new ModelPolicy(m, undefined, 20);
  const raw = (cut: string) => {
    const s = m.stress.values().next().value!;
    return s.edge.get(cut)! + s.cloud.get(cut)! + s.fixed.get(cut)! + m.beta * wireMs(m.wire.get(cut)!, 20);
  };
  t.ok(Math.abs(p.predicted('mid@int8') - raw('mid@int8') - 1.5) < 0.05, `encode and decode (1.5 ms) in the prediction: ${(p.predicted('mid@int8') - raw('mid@int8')).toFixed(2)} ms`);
  t.ok(raw('mid@brotli') < raw('mid@int8'), 'brotli sends fewer bytes than int8...');
  t.ok(p.predicted('mid@brotli') > p.predicted('mid@int8') + 70, '...but its 80 ms of encoding make it the slower arm');
  t.equal(p.choose(), 'mid@int8', 'model at 20 Mbit/s');
});

t.test('arms: model follows the rate across arms and learns it from the bytes each request sent', async (t) => {
  const m = fit(armData());
  const p = new ModelPolicy(m, undefined, 5000);
  const rates = [...Array(20).fill(5000), ...Array(20).fill(20), ...Array(25).fill(2), ...Array(20).fill(20)];
  const chosen: string[] = [];
  rates.forEach((net, i) => {
    const probe = p.probe(i * 250);
    if (probe) {
      t.equal(probe, 'mid', 'the probe is an f32 arm (a plain tensor)');
      const x = armTimes(ARMS.find((a) => a.cut === probe)!, net);
      p.observe({ cut: probe, edge_ms: NaN, transfer_ms: x.transfer, cloud_ms: x.cloud, probe: true, bytes: x.bytes });
    }
    const cut = p.choose();
    const a = ARMS.find((q) => q.cut === cut)!;
    const x = armTimes(a, net);
    p.observe({ cut, edge_ms: x.edge, transfer_ms: x.transfer, cloud_ms: x.cloud, bytes: x.bytes });
    chosen.push(cut);
  });
  t.equal(chosen[19], 'input', 'cloud-only on the fast link');
  t.equal(chosen[39], 'mid@int8', 'the int8 arm at 20 Mbit/s');
  t.equal(chosen[64], 'out', 'edge-only at 2 Mbit/s');
  t.equal(chosen.at(-1), 'mid@int8', 'back to int8 once the link recovers (probes while edge-only)');
  const est = p.estimate().rate!;
  t.ok(est > 10 && est < 40, `rate estimate ${est.toFixed(1)} Mbit/s at 20, from the int8 frames' own bytes`);
});

t.test('arms: a camera frame\'s near-zero edge does not move the edge slowdown', async (t) => {
  const m = fit(armData());
  const p = new ModelPolicy(m, undefined, 50);
  for (let i = 0; i < 10; i++) p.observe({ cut: 'input@jpeg:90', edge_ms: 0.005, transfer_ms: 6, cloud_ms: 30, bytes: 30_000 });
  t.equal(p.estimate().edgeSlowdown, 1, 'edge slowdown unchanged');
});

t.test('arms: the fidelity budget leaves an arm out of every policy\'s choice', async (t) => {
  const record = (codec: string, top1: number): FidelityRecord => ({ cut: 'mid', codec, bytes: 15_000, ratio: 0.25, encode_ms: 1, decode_ms: 0.5, max_abs_diff: 0.1, rel_l2: 0.1, top1_agreement: top1, top5_agreement: 1, inputs: 100 });
  const data = armData([record('int8', 0.96), { ...record('jpeg:90', 0.995), cut: 'input' }]);
  const judged = judgeArms(data, DEFAULT_MAX_AGREEMENT_LOSS);
  const m = fit(restrictArms(data, (c) => judged.admitted.has(c.cut)));
  t.same(m.cuts.map((c) => c.cut), ['input', 'input@jpeg:90', 'mid', 'mid@brotli', 'out'], 'int8 (4 points lost) is out; brotli is lossless, jpeg:90 within 1 point');
  t.equal(new OraclePolicy(m).choose({ ...NO_CONDITION, net: 20 }), 'out', 'without int8 edge-only is best at 20 Mbit/s');
  t.equal(new ModelPolicy(m, undefined, 20).choose(), 'out');
  const cuts = m.cuts.map((c) => c.cut);
  t.throws(() => parsePolicies('static:mid@int8', cuts, () => []), /--policies: mid@int8 is not a profiled partition point or \(point, codec\) arm the policies may choose/);
  t.same(parsePolicies('static:input@jpeg:90,static:auto', cuts, () => autoStaticCuts(m, 20, 50)), ['static:input@jpeg:90', 'static:input', 'static:out', 'static:mid'], 'static:<arm>; static:auto over arms: cloud-only (the f32 input arm), edge-only, best at 50 (mid), at 20 (out)');
});

t.test('arms: without f32 arms the probe is a tensor codec, never a camera frame', async (t) => {
  const data = armData();
  const m = fit(restrictArms(data, (c) => c.cut.includes('@') || c.cut === 'out'));
  t.equal(probePoint(m), 'mid@int8', 'the first tensor-codec arm of at least 16 KB');
  t.same(autoStaticCuts(m, 20, 50).slice(0, 2), ['input@jpeg:90', 'out'], 'cloud-only is the input point\'s first arm when it has no f32 one');
});
