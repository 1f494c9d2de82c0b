import { conditionKey, type Condition } from '../../conditions/condition.js';
import type { DeviceLimits } from '../../conditions/cgroup.js';
import type { ResultsWriter } from '../../results/log-writer.js';
import type { CellSink, ConditionController } from '../sweep.js';

/**
 * One edge's part in a lab run of several edges (`dnn-edge lab NET --edges N`): every edge sweeps
 * the same plan; its conditions start on all edges together (the barrier), and every edge's cells
 * end up in the lab's one results file, tagged `edge=I`.
 */
export interface EdgeRole {
  /** 0: the lab process, which writes the results file; 1..N-1: a follower */
  index: number;
  /** every edge is at `key`: resolves when all are (each edge calls it with the same keys, in the same order) */
  barrier(key: string): Promise<void>;
  /** a follower's cells go to the lab instead of a file of its own */
  sink?: CellSink;
  /** a follower's device limits (the lab made its cgroup): its stress is sized to them */
  limits?: DeviceLimits;
  /** the lab: the results file is open, the followers' cells may be written into it */
  writing?(writer: ResultsWriter): void;
  /** the lab: after its own sweep and before the file is closed: the followers' last cells */
  finish?(): Promise<void>;
}

/**
 * A controller whose every condition starts on all edges at once: each edge first waits until all
 * have finished what they measured before (so no edge changes the shared cloud stress, or loads the
 * shared CPUs with its stressors, while another still measures), puts the condition in effect, and
 * waits until it is in effect everywhere.
 */
export function barrierController(inner: ConditionController, barrier: (key: string) => Promise<void>): ConditionController {
  let seq = 0;
  return {
    async apply(c: Condition) {
      const key = `${seq++} ${conditionKey(c)}`;
      await barrier(`${key} finished before`);
      await inner.apply(c);
      await barrier(`${key} in effect`);
    },
    release: () => inner.release(),
  };
}

/** The sink that tags a cell with its edge, for the lab's own (edge 0's) cells. */
export function edgeSink(writer: ResultsWriter, edge: number): CellSink {
  return {
    appendCell: (condition, cut, histograms, startMs, endMs, ref, codec) => writer.appendCell(condition, cut, histograms, startMs, endMs, ref, codec, edge),
    // a scenario cell carries its edge (SweepPlan.edgeIndex)
    appendStreamCell: (cell) => writer.appendStreamCell(cell),
  };
}
