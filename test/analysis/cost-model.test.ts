// test-process: shared (pure: no backend, environment, signal handlers or children; see test/run-shared.ts)
import t from 'tap';
import { NO_CONDITION, type Condition } from '../../src/conditions/condition.js';
import { buildReport } from '../../src/analysis/build-report.js';
import { formatCsv } from '../../src/report/format/csv.js';
import { formatTable } from '../../src/report/format/table.js';
import type { CellStats, NetworkData } from '../../src/analysis/cells.js';
import { inferFrameBytes } from '../../src/protocol/frame-size.js';
import { fitCostModel, parsePredictSpec, predictCondition, predictConditions, rateThresholds, wireBytes, wireMs, type CostModel } from '../../src/analysis/cost-model.js';

/**
 * A network whose measurements follow a known link exactly: transfer = fixed + 1.2 * wire/rate + delay,
 * so the fit must find beta = 1.2, gamma = 1 and predict unmeasured rates and delays exactly.
 * Points: input (600 KB), mid (60 KB), out (edge-only). Edge CPU stress doubles edge compute.
 */
const POINTS = [
  { cut: 'input', index: 0, bytes: 600_000, edge: 0.1, cloud: 38, fixed: 1.0 },
  { cut: 'mid', index: 5, bytes: 60_000, edge: 25, cloud: 15, fixed: 0.5 },
  { cut: 'out', index: 9, bytes: 4_000, edge: 45, cloud: 0, fixed: 0 },
];
const BETA = 1.2;

function truth(p: (typeof POINTS)[number], c: Condition) {
  const slow = c.ecpu === 100 ? 2 : 1;
  const edge = p.edge * slow;
  if (p.cloud === 0) return { edge, transfer: 0, cloud: 0 };
  const wire = BETA * wireMs(wireBytes([1, p.bytes / 4]), c.net);
  return { edge, transfer: p.fixed + wire + c.delay, cloud: p.cloud };
}

function network(conditions: Condition[]): NetworkData {
  const stat = (v: number) => ({ p50: v, p95: v * 1.1, mean: v, samples: 10 });
  return {
    network: 'known',
    cuts: POINTS.map(({ cut, index, bytes }) => ({ cut, index, bytes })),
    sources: ['memory'],
    outputBytes: 4000,
    conditions: conditions.map((condition) => {
      const cells = new Map<string, CellStats>();
      for (const p of POINTS) {
        const x = truth(p, condition);
        cells.set(p.cut, { edge: stat(x.edge), transfer: stat(x.transfer), cloud: stat(x.cloud), total: stat(x.edge + x.transfer + x.cloud) });
      }
      return { condition, cells };
    }),
  };
}

const MEASURED = [50, 10].flatMap((net) => [0, 20].flatMap((delay) => [0, 100].map((ecpu) => ({ ...NO_CONDITION, net, delay, ecpu }))));

t.test('wire bytes: frame and TCP/IP/Ethernet headers per 1448-byte segment', async (t) => {
  const w = wireBytes([1, 3, 224, 224]); // 602112 bytes
  t.ok(w > 602112 * 1.045 && w < 602112 * 1.047, `${w} bytes on the wire for a 602112-byte tensor (docs/benchmarks.md: 1.04-1.045x measured)`);
  t.equal(wireBytes([1, 0]), 96 + 66, 'an empty tensor: one segment (a v2 INFER frame with no payload is 96 bytes)');
  const frame = inferFrameBytes([1, 3, 224, 224]);
  t.equal(w, frame + Math.ceil(frame / 1448) * 66, 'the frame is the protocol\'s own size of an INFER of that tensor');
});

t.test('a point\'s frame is that of its tensor\'s shape (batch 1) when the data has shapes, sizes alone being enough otherwise', async (t) => {
  const shapes = new Map([['input', [150_000]], ['mid', [15, 1000]], ['out', [10, 10, 10]]]);
  const m = fitCostModel({ ...network(MEASURED), cuts: POINTS.map(({ cut, index }) => ({ cut, index })), shapes }, 'p50') as CostModel;
  t.notOk('reason' in m, 'fitted without tensor sizes');
  t.same([...m.wire], [...shapes].map(([cut, shape]) => [cut, wireBytes([1, ...shape])]), 'wire bytes of an INFER of [1, ...shape]');
  const bySize = fitCostModel(network(MEASURED), 'p50') as CostModel;
  t.same([...bySize.wire], POINTS.map((p) => [p.cut, wireBytes([1, p.bytes / 4])]), 'sizes alone: a flat float32 tensor');
});

t.test('the fit recovers the link and predicts unmeasured rates and delays exactly', async (t) => {
  const m = fitCostModel(network(MEASURED), 'p50') as CostModel;
  t.notOk('reason' in m);
  t.ok(Math.abs(m.beta - BETA) < 1e-9, `beta ${m.beta}`);
  t.ok(Math.abs(m.gamma - 1) < 1e-9, `gamma ${m.gamma}`);
  t.same(m.fitted, { beta: true, gamma: true });
  t.same([...m.local], ['out']);
  for (const c of [{ ...NO_CONDITION, net: 3, delay: 7 }, { ...NO_CONDITION, net: 100, ecpu: 100 }, { ...NO_CONDITION, net: 1.5, delay: 50 }]) {
    for (const p of predictCondition(m, c)) {
      const x = truth(POINTS.find((q) => q.cut === p.cut)!, c);
      t.ok(Math.abs(p.total_ms - (x.edge + x.transfer + x.cloud)) < 1e-6, `${p.cut} at net=${c.net} delay=${c.delay} ecpu=${c.ecpu}`);
    }
  }
  t.throws(() => predictCondition(m, { ...NO_CONDITION, net: 5, ccpu: 50 }), /never measured at ecpu=0;emem=0;ccpu=50;cmem=0/);
  t.throws(() => predictCondition(m, { ...NO_CONDITION, net: 5, loss: 1 }), /--predict: loss is not in the cost model \(only rate and delay\)/);
});

t.test('rate thresholds: the lower envelope, checked against brute force', async (t) => {
  const m = fitCostModel(network(MEASURED), 'p50') as CostModel;
  for (const stress of m.stress.keys()) {
    const th = rateThresholds(m, stress);
    t.equal(th.ranges[0]!.max_mbit, null, 'the first range is open towards fast links');
    t.equal(th.ranges.at(-1)!.min_mbit, 0, 'the last reaches the slowest');
    for (let i = 1; i < th.ranges.length; i++) t.equal(th.ranges[i]!.max_mbit, th.ranges[i - 1]!.min_mbit, 'contiguous');
    // Brute force: the best point at many rates lies in the range that names it.
    const ecpu = Number(/ecpu=(\d+)/.exec(stress)![1]);
    for (let rate = 0.25; rate < 2000; rate *= 1.07) {
      const rows = predictCondition(m, { ...NO_CONDITION, ecpu, net: rate });
      const best = rows.reduce((a, b) => (b.total_ms < a.total_ms ? b : a));
      const range = th.ranges.find((r) => rate >= r.min_mbit && (r.max_mbit === null || rate < r.max_mbit))!;
      const near = th.ranges.some((r) => Math.abs(rate / r.min_mbit - 1) < 0.002);
      if (range.cut !== best.cut && !near) t.fail(`at ${rate.toFixed(2)} Mbit/s best is ${best.cut}, ranges say ${range.cut}`);
    }
    t.same(th.ranges.map((r) => r.cut), ['input', 'mid', 'out'], `${stress}: ${JSON.stringify(th.ranges)}`);
  }
  // At the threshold the two points it separates cost the same.
  const at = (ecpu: number) => rateThresholds(m, `ecpu=${ecpu};emem=0;ccpu=0;cmem=0`).ranges[0]!.min_mbit;
  const totals = predictCondition(m, { ...NO_CONDITION, net: at(0) });
  const [input, mid] = ['input', 'mid'].map((c) => totals.find((p) => p.cut === c)!.total_ms);
  t.ok(Math.abs(input! / mid! - 1) < 0.002, `input ${input} ms = mid ${mid} ms at ${at(0)} Mbit/s`);
  t.ok(at(100) < at(0) / 10, 'a slower edge makes cloud-only pay off on much slower links');
});

t.test('--predict grid and report: same shape, marked predicted; default report has thresholds', async (t) => {
  const levels = parsePredictSpec('net=5,2,1;delay=0,20');
  const m = fitCostModel(network(MEASURED), 'p50') as CostModel;
  t.equal(predictConditions(m, levels).length, 3 * 2 * 2, 'named factors x measured stress levels');
  t.equal(predictConditions(m, parsePredictSpec('net=5;ecpu=100')).length, 1);
  const r = buildReport([network(MEASURED)], { metric: 'p50', minGain: 0.05, predict: levels });
  const n = r.networks[0]!;
  t.equal(n.conditions.length, 12);
  t.ok(n.conditions.every((c) => c.predicted === true && c.cuts.every((p) => p.samples === 0)));
  t.equal(n.predicted_from, MEASURED.length);
  t.equal(n.deployed.cut, 'out', 'the deployed point is the best measured at the baseline (net=50)');
  t.match(formatTable(r), /PREDICTED by the cost model fitted on 8 measured condition\(s\)/);
  t.match(formatCsv(r).split('\n')[1]!, /,true$/);
  const measured = buildReport([network(MEASURED)], { metric: 'p50', minGain: 0.05 }).networks[0]!;
  t.equal(measured.rate_thresholds!.length, 2);
  t.match(formatTable({ ...r, networks: [measured] }), /rate thresholds .*\n  ecpu=0;emem=0;ccpu=0;cmem=0: out below [\d.]+ \| mid [\d.]+-[\d.]+ \| input above [\d.]+/);
  const bad: [string, RegExp][] = [
    ['', /needs at least one factor/],
    ['net=0', /--predict net: 0 is out of range/],
    ['speed=4', /unknown factor 'speed'/],
    ['net=5;net=4', /given twice/],
    ['net', /'net' is not key=list/],
  ];
  for (const [spec, re] of bad) t.throws(() => parsePredictSpec(spec), re, spec);
  t.throws(() => buildReport([{ ...network(MEASURED), cuts: POINTS.map(({ cut, index }) => ({ cut, index })) }], { metric: 'p50', minGain: 0.05, predict: levels }), /no cost model for known: the data has no tensor sizes/);
});
