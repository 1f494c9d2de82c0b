// test-process: shared (pure: no backend, environment, signal handlers or children; see test/run-shared.ts)
// The sweep with a scenario (about 2 s, LeNet in process): each (condition, arm) is one scenario cell
// through the real pipeline, the several-edges barrier is awaited before each, a link failure measures
// the cell again from scratch, a resumed run skips the cells it has. An in-process cloud half (the
// real pipeline against a real loopback cloud is in stream-pipeline.test.ts).
import t from 'tap';
import { NO_CONDITION, conditionKey, type Condition } from '../../src/conditions/condition.js';
import { LinkFailure } from '../../src/edge/cloud-link.js';
import type { ProgressSink } from '../../src/edge/progress.js';
import { runSweep, type CellSink, type ConditionController, type SweepPlan } from '../../src/edge/sweep.js';
import type { StreamCellText } from '../../src/results/log-writer.js';
import { cellKey } from '../../src/results/tags.js';
import { InProcessLink, lenetHere } from '../helpers/in-process-link.js';

class StreamSink implements CellSink {
  readonly cells: { key: string; offered: number; completed: number; totals: number; frames: number; queue: boolean }[] = [];
  async appendCell(): Promise<void> {
    throw new Error('a scenario run writes scenario cells only');
  }
  async appendStreamCell(c: StreamCellText): Promise<void> {
    this.cells.push({
      key: cellKey(c.condition, c.cut, c.ref, c.codec, c.scenario, c.edge),
      offered: c.stream.offered,
      completed: c.stream.completed,
      totals: c.histograms.total.totalCount,
      frames: c.frames.length,
      queue: Boolean(c.histograms.queue_edge && c.histograms.queue_cloud),
    });
  }
}

const controller: ConditionController = { apply: async () => {}, release: async () => {} };
class Notes implements ProgressSink {
  readonly lines: string[] = [];
  start(): void {}
  cellStarted(): void {}
  cellDone(_c: string, cut: string, summary: string): void {
    this.lines.push(`${cut}: ${summary}`);
  }
  note(line: string): void {
    this.lines.push(line);
  }
  finish(): void {}
}

const { network, runner, input } = await lenetHere(t);
const cuts = [network.cuts[0]!, network.cuts[3]!, network.cuts.at(-1)!];
const slow: Condition = { ...NO_CONDITION, net: 10 };
const plan: SweepPlan = { conditions: [{ ...NO_CONDITION }, slow], cuts, reps: 6, warmup: 2, done: new Set(), seed: 3, referenceEvery: 0, scenario: { kind: 'max' }, inFlight: 2, edgeIndex: 1 };

function sweep(link: InProcessLink, p: SweepPlan = plan) {
  const barrier: string[] = [];
  const deps = { runner, link, inputs: [{ tensor: input }], sink: new StreamSink(), controller, progress: new Notes(), cellBarrier: async (c: string, arm: string) => void barrier.push(`${c}|${arm}`) };
  return { deps, barrier, result: runSweep(p, deps) };
}

t.test('one scenario cell per (condition, arm), tagged with its scenario and edge, the barrier before each', async (t) => {
  const { deps, barrier, result } = sweep(new InProcessLink(runner, () => null), { ...plan, referenceEvery: 1 });
  const stats = await result;
  const keys = plan.conditions.flatMap((c) => cuts.map((p) => cellKey(c, p.layer, undefined, undefined, 'max', 1)));
  t.same(deps.sink.cells.filter((c) => !c.key.includes(';ref=')).map((c) => c.key).sort(), [...keys].sort(), 'every cell, tagged scenario=max;edge=1');
  t.ok(deps.sink.cells.every((c) => c.offered === 6 && c.completed === 6 && c.totals === 6 && c.frames === 6 && c.queue), 'reps frames offered, all completed, queueing histograms');
  t.equal(stats.cells, 6);
  t.equal(stats.references, 2, 'the reference cell after the baseline and at the end');
  t.ok(cuts.some((c) => c.layer === stats.referenceCut));
  t.equal(barrier.length, 8, 'the barrier once per cell, references included');
  t.same(new Set(barrier.slice(0, 3).map((b) => b.split('|')[1])), new Set(cuts.map((c) => c.layer)), 'the baseline\'s arms first');
  t.equal(barrier[0]!.split('|')[0], conditionKey(NO_CONDITION));
  t.match(deps.progress.lines.join('\n'), /frames\/s, 0\.0 % dropped, total p50 [\d.]+ ms p99 [\d.]+ ms \(6 of 6 frames\)/);

  // resumed: the cells in the file are skipped
  const again = sweep(new InProcessLink(runner, () => null), { ...plan, done: new Set(keys.slice(0, 4)) });
  await again.result;
  t.same(again.deps.sink.cells.map((c) => c.key).sort(), keys.slice(4).sort());
});

t.test('a link failure measures the cell again from scratch after a reconnect', async (t) => {
  const link = new InProcessLink(runner, (n) => (n === 5 ? new LinkFailure('call 5 dropped', 'reset') : null));
  const { deps, barrier, result } = sweep(link, { ...plan, conditions: [{ ...NO_CONDITION }] });
  const stats = await result;
  t.equal(stats.retries, 1);
  t.equal(link.reconnects, 1);
  t.equal(deps.sink.cells.length, 3, 'each cell written once');
  t.ok(deps.sink.cells.every((c) => c.completed === 6));
  t.equal(barrier.length, 4, 'the measured-again cell waited at the barrier again');
  t.match(deps.progress.lines.join('\n'), /a frame failed \(call 5 dropped\); reconnecting to measure the cell again from scratch/);
});

t.test('a single run of several edges: the barrier once per condition (arm *), cells written with their edge', async (t) => {
  const written: string[] = [];
  const sink: CellSink = {
    appendCell: async (c, cut, _h, _s, _e, ref, codec, edge) => void written.push(cellKey(c, cut, ref, codec, undefined, edge)),
  };
  const barrier: string[] = [];
  const p: SweepPlan = { ...plan, scenario: { kind: 'single' }, reps: 2, warmup: 0 };
  await runSweep(p, { runner, link: new InProcessLink(runner, () => null), inputs: [{ tensor: input }], sink, controller, progress: new Notes(), cellBarrier: async (c, arm) => void barrier.push(`${c}|${arm}`) });
  t.same(barrier, plan.conditions.map((c) => `${conditionKey(c)}|*`));
  t.equal(written.length, 6);
  t.ok(written.every((k) => k.endsWith(';edge=1') && !k.includes('scenario=')), 'tagged ;edge=1, no scenario');
});
