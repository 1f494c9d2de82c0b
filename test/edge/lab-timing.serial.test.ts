import t from 'tap';
import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runBin } from '../helpers/cli.js';
import { NEEDS_ROOT } from '../helpers/root.js';
import { readResultsFile } from '../../src/results/log-reader.js';

/**
 * Timing assertions about the lab: shaping accuracy and the lab's devices. A *.serial.test file: `npm test` runs these alone,
 * after the other test files, so no other test file shares the CPUs.
 */

const NO_NET = ['--net', 'none', '--edge-mem', '0', '--cloud-mem', '0'];
/** A model whose inference spans several 10 ms enforcement periods, and its edge-only point. */
const MODEL = ['mobilenet', '--input-shape', '96x96x3'];
const LAST = 'act_softmax';
const NO_STRESS_EDGE_IDLE = ['--edge-mem', '0', '--cloud-cpu', '0', '--cloud-mem', '0', '--reference-every', '0'];

async function results(dir: string) {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.hdr'));
  return readResultsFile(path.join(dir, files[0]!));
}

type Parsed = ReturnType<typeof readResultsFile>;

/** p50 in ms of a metric at a point under a condition. */
function p50(r: Parsed, cut: string, metric: string, cond: { ecpu: number; ccpu: number }): number {
  const c = r.cells.find((x) => x.tag.cut === cut && x.tag.metric === metric && x.tag.condition.ecpu === cond.ecpu && x.tag.condition.ccpu === cond.ccpu);
  if (!c) throw new Error(`no ${metric} cell at ${cut} under ecpu=${cond.ecpu};ccpu=${cond.ccpu}`);
  return c.histogram.getValueAtPercentile(50) / 1000;
}

t.test('a shaped transfer of 602112 bytes at 10 Mbit/s takes bytes*8/rate within 10 %', { skip: NEEDS_ROOT }, async (t) => {
  const out = await mkdtemp(path.join(tmpdir(), 'dnn-lab-rate-'));
  // the cloud-only point sends the 224x224x3 input: 602112 bytes. mobilenet rather than alexnet (the
  // same input): both ends build, seed and convert 4.2M weights instead of 29M (this file runs alone)
  const r = await runBin('dnn-edge', ['lab', 'mobilenet', '--input-shape', '224x224x3', '--cuts', '0', '--net', '10', '--edge-cpu', '0', ...NO_STRESS_EDGE_IDLE, '--reps', '5', '--out', out], { timeout: 300_000 });
  t.equal(r.exitCode, 0, String(r.stderr));
  const parsed = await results(out);
  const transfer = parsed.cells.find((c) => c.tag.metric === 'transfer')!.histogram.getValueAtPercentile(50) / 1e6;
  const ideal = (602112 * 8) / 10e6;
  t.comment(`transfer p50 ${(transfer * 1000).toFixed(1)} ms, ideal ${(ideal * 1000).toFixed(1)} ms, ratio ${(transfer / ideal).toFixed(3)}`);
  t.ok(Math.abs(transfer / ideal - 1) <= 0.1, `ratio ${(transfer / ideal).toFixed(3)} within 1 +- 0.1`);
});

t.test('--edge-slowdown 5 lands within 15 % of 5, as the run itself measures it', { skip: NEEDS_ROOT }, async (t) => {
  const out = await mkdtemp(path.join(tmpdir(), 'dnn-lab-slowdown-'));
  const r = await runBin('dnn-edge', ['lab', ...MODEL, '--cuts', `0,${LAST}`, ...NO_NET, '--edge-cpu', '0', '--cloud-cpu', '0', '--edge-slowdown', '5', '--backend', 'wasm', '--reps', '8', '--warmup', '2', '--reference-every', '0', '--out', out], {
    timeout: 300_000,
  });
  t.equal(r.exitCode, 0, String(r.stderr));
  t.match(String(r.stderr), /--edge-slowdown 5: reached [\d.]+x with [\d.]+ cores/);
  const parsed = await results(out);
  const edge = parsed.meta!.conditions!.devices as { edge: { cpus: number; slowdown: { target: number; reached: number } } };
  t.equal(edge.edge.slowdown.target, 5);
  t.ok(edge.edge.cpus > 0 && edge.edge.cpus < 1, `the calibrated CPU time (${edge.edge.cpus} cores) is recorded`);
  const ratio = p50(parsed, LAST, 'edge', { ecpu: 0, ccpu: 0 }) / p50(parsed, parsed.meta!.cuts[0]!.layer, 'cloud', { ecpu: 0, ccpu: 0 });
  t.comment(`calibration reached ${edge.edge.slowdown.reached}x; the sweep measured ${ratio.toFixed(2)}x (edge-only edge compute / cloud-only cloud compute, p50)`);
  t.ok(Math.abs(ratio / 5 - 1) <= 0.15, `measured slowdown ${ratio.toFixed(2)} within 15 % of 5`, { todo: 'run to run the edge of this VM varies by more than 15 % (sweep measured 3.8-5.8x for 5, calibration within 5 %): issue 9 open' });
});
