// test-process: shared (pure: no backend, environment, signal handlers or children; see test/run-shared.ts)
import t from 'tap';
import { summarizeAdaptive, switchPenalty } from '../../src/analysis/policy-runs.js';
import { newLatencyHistogram } from '../../src/results/log-lines.js';
import { parseResultsText } from '../../src/results/log-reader.js';
import type { PolicyRun } from '../../src/results/log-reader.js';
import { adaptiveNotes, adaptiveRows } from '../../src/report/format/labels.js';

const req = (cut: string, total: number, o: { switched?: boolean; oracle?: string; condition?: string } = {}) => ({
  t_ms: 0, condition: o.condition ?? 'net=10', rate_mbit: 10, est_mbit: null, cut, oracle_cut: o.oracle ?? cut, switched: Boolean(o.switched), total_ms: total,
});

function run(policy: string, totals: number[], requests: ReturnType<typeof req>[]): PolicyRun {
  const h = newLatencyHistogram();
  for (const v of totals) h.recordValue(v * 1000);
  return { policy, trace: 'tr', histograms: { total: h }, requests, applied: [{ scheduled_ms: 0, applied_ms: 3.5 }] };
}

t.test('switch penalty: the first request after a switch against the next ones at the same point', async (t) => {
  t.equal(switchPenalty([req('a', 10), req('b', 30, { switched: true }), req('b', 20), req('b', 22), req('b', 18)]), 10);
  t.equal(switchPenalty([req('a', 10), req('b', 30, { switched: true }), req('b', 20, { condition: 'net=5' })]), null, 'a changed condition is not steady state');
  t.equal(switchPenalty([req('a', 10)]), null);
});

t.test('summary per (network, trace): gain over the best static, switches, oracle agreement', async (t) => {
  const runs = [
    run('static:a', [10, 10, 10, 10], [req('a', 10), req('a', 10, { oracle: 'b' }), req('a', 10), req('a', 10)]),
    run('static:b', [20, 20], [req('b', 20), req('b', 20)]),
    run('adaptive', [8, 8, 8, 8], [req('a', 8), req('b', 8, { switched: true, oracle: 'a' }), req('b', 8), req('b', 8)]),
  ];
  const [e] = summarizeAdaptive('net', runs);
  t.equal(e!.best_static, 'static:a');
  const a = e!.policies.find((p) => p.policy === 'adaptive')!;
  t.equal(a.requests, 4);
  t.equal(a.switches, 1);
  t.equal(a.oracle_agreement, 0.75);
  t.ok(Math.abs(a.gain_over_best_static! - 0.25) < 0.01, `gain ${a.gain_over_best_static}`);
  t.equal(e!.policies.find((p) => p.policy === 'static:a')!.oracle_agreement, 0.75);
  t.equal(e!.max_step_lateness_ms, 3.5);
});

t.test('results files carry policy histograms and timelines; a file with only those is data', async (t) => {
  const h = newLatencyHistogram();
  h.recordValue(5000);
  const { policyText, REQUEST_PREFIX, APPLIED_PREFIX } = await import('../../src/results/log-lines.js');
  const hs = { edge: h, transfer: h, cloud: h, total: h };
  const text = [
    '#[BaseTime: 1000.000 (seconds since epoch)]',
    `${APPLIED_PREFIX}{"step":0,"scheduled_ms":0,"applied_ms":1}`,
    `${REQUEST_PREFIX}{"policy":"adaptive","cut":"a","oracle_cut":"a","switched":false,"total_ms":5}`,
    policyText(1_000_000, 'adaptive', 'my trace.txt', hs, 1_000_000, 1_001_000).trimEnd(),
  ].join('\n');
  const f = parseResultsText(text, 'x.hdr');
  t.equal(f.cells.length, 0);
  t.equal(f.policies.length, 1);
  t.match(f.policies[0], { policy: 'adaptive', trace: 'my_trace.txt', requests: [{ cut: 'a' }], applied: [{ applied_ms: 1 }] });
  t.same(Object.keys(f.policies[0]!.histograms).sort(), ['cloud', 'edge', 'total', 'transfer']);
});

t.test('a camera replay (--trace with --scenario stream:FPS): drops and frames/s per policy from its #dnn-stream line', async (t) => {
  const runs = [run('static:a', [10, 10], [req('a', 10), req('a', 10)]), run('adaptive', [8, 8], [req('a', 8), req('b', 8, { switched: true })])];
  const line = (policy: string, dropped: number) => ({ cell: `policy=${policy};trace=tr`, scenario: 'stream:15', edge: 0, offered: 20, completed: 20 - dropped, dropped, refused: 0, elapsed_ms: 1000, fps: 20 - dropped, in_flight: 4, cloud_stress: { cpu: 0, mem: 0 } });
  const [e] = summarizeAdaptive('net', runs, [line('static:a', 5), line('adaptive', 1)]);
  t.same(e!.policies.map((p) => [p.policy, p.scenario, p.dropped, p.offered, p.drop_fraction, p.fps]), [
    ['static:a', 'stream:15', 5, 20, 0.25, 15],
    ['adaptive', 'stream:15', 1, 20, 0.05, 19],
  ]);
  const [plain] = summarizeAdaptive('net', runs);
  t.ok(plain!.policies.every((p) => !('drop_fraction' in p)), 'without a camera: the summary as before');
});

t.test('a three-tier replay (--tiers 3 --trace): configurations as statics, the best per window, no oracle', async (t) => {
  // x|y configurations: a|b is faster before 5 s (the device link fast), c|c after (the device link slow)
  const tierReq = (x: string, y: string, t_ms: number, total: number) => ({ t_ms, condition: 'net=50;dnet=50', rate_mbit: 50, device_rate_mbit: 50, cut: x, cut2: y, switched: false, device_ms: 1, device_transfer_ms: 1, edge_ms: 1, transfer_ms: 1, cloud_ms: 1, total_ms: total });
  const series = (x: string, y: string, before: number, after: number) => [0, 1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000, 9000].map((ms) => tierReq(x, y, ms, ms < 5000 ? before : after));
  const tierRun = (x: string, y: string, before: number, after: number) => {
    const requests = series(x, y, before, after);
    return { ...run(`static:${x}|${y}`, requests.map((r) => r.total_ms), []), requests };
  };
  const [e] = summarizeAdaptive('mobilenet', [tierRun('a', 'b', 10, 40), tierRun('c', 'c', 20, 25)], [], { arms: 6 });
  t.equal(e!.three_tier, true);
  t.same(e!.hindsight_choices, [{ t0_s: 0, policy: 'static:a|b' }, { t0_s: 5, policy: 'static:c|c' }], 'the best configuration per window');
  t.ok(e!.policies.every((p) => p.oracle_agreement === null), 'no oracle in the run: no agreement');
  t.equal(e!.hindsight_ms, 17.5);
  t.match(e!.hindsight_warnings.join('\n'), /not over all 6 arms/, 'two of six configurations: not an upper bound');
  t.equal(adaptiveNotes(e!).at(-1), 'best configuration (x|y) per 5 s window (hindsight): 0-5 s a|b; 5-10 s c|c (1 move)');
  t.equal(adaptiveRows(e!)[0]![9], '-', 'the oracle column');
  const oracleRun = { ...tierRun('a', 'b', 10, 25), policy: 'oracle', requests: series('a', 'b', 10, 25).map((q, i) => ({ ...q, oracle_cut: i < 5 ? 'a|b' : 'c|c' })) };
  const [withOracle] = summarizeAdaptive('mobilenet', [tierRun('a', 'b', 10, 40), oracleRun], [], { arms: 6 });
  t.equal(withOracle!.policies.find((p) => p.policy === 'oracle')!.oracle_agreement, 0.5, 'agreement over configurations x|y, not x alone');
  const [two] = summarizeAdaptive('net', [run('static:a', [10], [req('a', 10)])]);
  t.equal(two!.three_tier, undefined, 'two tiers: no such field, no such note');
  t.notMatch(adaptiveNotes(two!).join('\n'), /per 5 s window/);
});
