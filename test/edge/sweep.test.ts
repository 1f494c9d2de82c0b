// runSweep's retry path in process (about 2 s with LeNet on the CPU backend): real inference on both
// halves, a CloudLink that runs the cloud half here and fails on purpose when told to, an in-memory
// sink. The real-process counterpart (a cloud killed and restarted mid-run) is in edge-cloud.test.ts.
import type * as hdr from 'hdr-histogram-js';
import t from 'tap';
import { NO_CONDITION, conditionKey, type Condition } from '../../src/conditions/condition.js';
import { SplitRunner, benchmarkInput, type HostTensor } from '../../src/engine/split-runner.js';
import { LinkFailure, type CloudLink, type CloudStressAck, type InferReply } from '../../src/edge/cloud-link.js';
import type { ProgressSink } from '../../src/edge/progress.js';
import { runSweep, type CellSink, type ConditionController } from '../../src/edge/sweep.js';
import { disposeNetwork, loadNetwork } from '../../src/model/network.js';
import type { CutPoint } from '../../src/model/partition.js';
import type { Metric } from '../../src/results/tags.js';

/**
 * A cloud in this process: INFER runs the cloud half with the same SplitRunner. `failAt(n)` says
 * whether the n-th infer call (from 1) fails, and how; a failed call does no work and needs a reconnect.
 */
class InProcessLink implements CloudLink {
  calls = 0;
  reconnects = 0;
  connected = true;
  constructor(
    private readonly runner: SplitRunner,
    private readonly failAt: (call: number) => LinkFailure | Error | null,
  ) {}

  async infer(cut: CutPoint, tensor: HostTensor): Promise<InferReply> {
    this.calls++;
    if (!this.connected) throw new Error('infer on a dropped link: the sweep did not reconnect');
    const failure = this.failAt(this.calls);
    if (failure) {
      this.connected = false;
      throw failure;
    }
    const r = this.runner.cloud(cut, tensor);
    return { output: r.value, cloudMs: r.ms };
  }

  async setCloudStress(): Promise<CloudStressAck | null> {
    return null;
  }

  async reconnect(): Promise<void> {
    this.reconnects++;
    this.connected = true;
  }

  async close(): Promise<void> {
    this.connected = false;
  }
}

/** The cells as the results file would get them: sample counts per metric. */
class MemorySink implements CellSink {
  readonly cells: { condition: string; cut: string; counts: Record<Metric, number> }[] = [];
  async appendCell(condition: Condition, cut: string, h: Record<Metric, hdr.Histogram>): Promise<void> {
    const counts = Object.fromEntries(Object.entries(h).map(([m, x]) => [m, x.totalCount])) as Record<Metric, number>;
    this.cells.push({ condition: conditionKey(condition), cut, counts });
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

const network = await loadNetwork('lenet', { seed: 1 });
const runner = new SplitRunner(network);
const input = benchmarkInput(network.inputShape, network.seed);
t.teardown(() => {
  input.dispose();
  disposeNetwork(network);
});
// Two points that send something to the cloud (the edge-only point never calls the link).
const cuts = network.cuts.filter((c) => c.kind !== 'output').slice(0, 2);
const plan = { conditions: [{ ...NO_CONDITION }], cuts, reps: 5, warmup: 2, done: new Set<string>() };

function sweep(link: InProcessLink) {
  const deps = { runner, link, input, sink: new MemorySink(), controller: new RecordingController(), progress: new NotesProgress() };
  return { deps, result: runSweep(plan, deps) };
}

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
