// test-process: shared (pure: no backend, environment, signal handlers or children; see test/run-shared.ts)
// runSweep's retry path in process (about 2 s with LeNet on the CPU backend): real inference on both
// halves, a CloudLink that runs the cloud half here and fails on purpose when told to, an in-memory
// sink. The real-process counterpart (a cloud killed and restarted mid-run) is in edge-cloud.test.ts.
import type * as hdr from 'hdr-histogram-js';
import t from 'tap';
import { NO_CONDITION, conditionKey, type Condition } from '../../src/conditions/condition.js';
import { LinkFailure } from '../../src/edge/cloud-link.js';
import { InProcessLink, lenetHere } from '../helpers/in-process-link.js';
import type { ProgressSink } from '../../src/edge/progress.js';
import { runSweep, type CellSink, type ConditionController, type SweepPlan } from '../../src/edge/sweep.js';
import { cellKey } from '../../src/results/tags.js';
import type { Metric } from '../../src/results/tags.js';

/** The cells as the results file would get them: sample counts per metric. */
class MemorySink implements CellSink {
  readonly cells: { condition: string; cut: string; counts: Record<Metric, number>; ref?: number }[] = [];
  async appendCell(condition: Condition, cut: string, h: Record<Metric, hdr.Histogram>, _start: number, _end: number, ref?: number): Promise<void> {
    const counts = Object.fromEntries(Object.entries(h).map(([m, x]) => [m, x.totalCount])) as Record<Metric, number>;
    this.cells.push({ condition: conditionKey(condition), cut, counts, ...(ref === undefined ? {} : { ref }) });
  }
}

/** No conditions to put in effect here; it remembers what it was asked, in order. */
class RecordingController implements ConditionController {
  readonly calls: string[] = [];
  async apply(c: Condition): Promise<void> {
    this.calls.push(`apply ${conditionKey(c)}`);
  }
  async release(): Promise<void> {
    this.calls.push('release');
  }
}

class NotesProgress implements ProgressSink {
  readonly notes: string[] = [];
  start(): void {}
  cellStarted(): void {}
  cellDone(): void {}
  note(line: string): void {
    this.notes.push(line);
  }
  finish(): void {}
}

const { network, runner, input } = await lenetHere(t);
// Two points that send something to the cloud (the edge-only point never calls the link).
const cuts = network.cuts.filter((c) => c.kind !== 'output').slice(0, 2);
const plan: SweepPlan = { conditions: [{ ...NO_CONDITION }], cuts, reps: 5, warmup: 2, done: new Set<string>(), seed: 1, referenceEvery: 0 };

function sweep(link: InProcessLink, p: SweepPlan = plan) {
  const deps = { runner, link, inputs: [{ tensor: input }], sink: new MemorySink(), controller: new RecordingController(), progress: new NotesProgress() };
  return { deps, result: runSweep(p, deps) };
}

t.test('points are interleaved rep by rep; the reference cell is measured again between conditions', async (t) => {
  const three = network.cuts.filter((c) => c.kind !== 'output').slice(0, 3);
  const slow = { ...NO_CONDITION, net: 10 };
  const p: SweepPlan = { ...plan, cuts: three, reps: 4, warmup: 1, conditions: [{ ...NO_CONDITION }, slow], referenceEvery: 1 };
  const link = new InProcessLink(runner, () => null);
  const { deps, result } = sweep(link, p);
  const stats = await result;
  const perCondition = (p.reps + p.warmup) * three.length;
  const cycles = (from: number) => Array.from({ length: p.reps + p.warmup }, (_, i) => link.layers.slice(from + i * 3, from + i * 3 + 3));
  const ordered = three.map((c) => c.layer).sort().join();
  t.ok(cycles(0).every((cy) => [...cy].sort().join() === ordered), 'every cycle measures every point once');
  t.ok(new Set(cycles(0).map((cy) => cy.join())).size > 1, 'in shuffled orders');
  const ref = stats.referenceCut;
  t.ok(three.some((c) => c.layer === ref), `the reference is the baseline's fastest point (${ref})`);
  t.same(link.layers.slice(perCondition, perCondition + p.reps + p.warmup), Array(p.reps + p.warmup).fill(ref), 'then the reference alone');
  t.same(deps.sink.cells.filter((c) => c.ref !== undefined).map((c) => [c.ref, c.cut, c.counts.total, c.condition]), [
    [0, ref, p.reps, conditionKey(NO_CONDITION)],
    [1, ref, p.reps, conditionKey(NO_CONDITION)],
  ]);
  t.equal(stats.references, 2);
  t.same(deps.controller.calls.filter((c) => c.startsWith('apply')).map((c) => c.includes('net=10') ? 'slow' : 'base'), ['base', 'base', 'slow', 'base'], 'baseline, reference, condition, reference');

  // resume: the cells and the first reference are in the file; only the rest is measured, in the same order
  const done = new Set([...three.map((c) => cellKey(NO_CONDITION, c.layer)), cellKey(NO_CONDITION, ref, 0)]);
  const again = new InProcessLink(runner, () => null);
  const resumed = sweep(again, { ...p, done, referenceCut: ref });
  await resumed.result;
  t.same(again.layers.slice(0, perCondition), link.layers.slice(perCondition + p.reps + p.warmup, 2 * perCondition + p.reps + p.warmup), 'the same cycles as the first run');
  t.same(resumed.deps.sink.cells.map((c) => [c.condition.includes('net=10') ? 'slow' : 'base', c.ref ?? '-']), [['slow', '-'], ['slow', '-'], ['slow', '-'], ['base', 1]]);
});

t.test('a sample the link fails is redone after a reconnect, so every cell still has all its samples', async (t) => {
  const failing = new Set([2, 3, 9]); // in warm-up, twice in a row, and in a recorded sample
  const link = new InProcessLink(runner, (n) => (failing.has(n) ? new LinkFailure(`call ${n} dropped`, n === 9 ? 'timeout' : 'reset') : null));
  const { deps, result } = sweep(link);
  const stats = await result;
  t.equal(stats.retries, 3);
  t.equal(link.reconnects, 3, 'one reconnect per failure');
  t.equal(link.calls, cuts.length * (plan.reps + plan.warmup) + 3, 'each failed call is made again');
  t.same(
    deps.sink.cells.map((c) => [c.cut, c.counts.total, c.counts.edge, c.counts.transfer, c.counts.cloud]),
    cuts.map((c) => [c.layer, plan.reps, plan.reps, plan.reps, plan.reps]),
    'each cell: exactly reps samples, failures not recorded',
  );
  t.equal(stats.samples, cuts.length * plan.reps);
  t.match(deps.progress.notes, [/sample failed \(call 2 dropped\); reconnecting/, /call 3/, /call 9/]);
  t.same(deps.controller.calls, [`apply ${conditionKey(plan.conditions[0]!)}`, 'release']);
});

t.test('a point failing more than 10 times in a row ends the run with a LinkFailure, conditions released', async (t) => {
  const link = new InProcessLink(runner, (n) => (n >= 4 ? new LinkFailure(`call ${n} refused`, 'error-reply') : null));
  const { deps, result } = sweep(link);
  await t.rejects(result, { constructor: LinkFailure, reason: 'error-reply', message: /point .* failed 10 times in a row, last: call 14 refused/ });
  t.equal(link.reconnects, 10);
  t.same(deps.sink.cells, [], 'no partial cell is written');
  t.same(deps.controller.calls.at(-1), 'release');
});

t.test('anything that is not a link failure (a bug) stops the run at once, without a retry', async (t) => {
  const link = new InProcessLink(runner, (n) => (n === 3 ? new TypeError('a bug') : null));
  const { deps, result } = sweep(link);
  await t.rejects(result, TypeError);
  t.equal(link.reconnects, 0);
  t.same(deps.controller.calls.at(-1), 'release');
});
