import type { SplitRunner } from '../../engine/split-runner.js';
import type { FrameLine, StreamLine } from '../../results/stream-lines.js';
import type { Arm } from '../arms.js';
import type { CloudLink } from '../cloud-link.js';
import { edgeStage, type SampleInput } from '../measure.js';
import { CellRecorder } from '../samples.js';
import { completed, frameLine, frameSample, type FrameRecord } from './frame.js';
import { runPipeline } from './pipeline.js';
import { scenarioLabel, type PipelinedScenario } from './scenario.js';

/** What a measured scenario cell gives the results file: its histograms, its `#dnn-stream` counts and its `#dnn-frame` lines (without the cell key, which the writer adds). */
export interface StreamCell {
  recorder: CellRecorder;
  stream: Omit<StreamLine, 'cell'>;
  frames: Omit<FrameLine, 'cell'>[];
  /** performance.now() of the first recorded arrival and the last completion */
  firstMs: number;
  lastMs: number;
}

export interface StreamCellOptions {
  scenario: PipelinedScenario;
  warmup: number;
  /** frames offered after warm-up */
  reps: number;
  inFlight: number;
  /** seed of this cell's arrivals */
  seed: number;
  /** record encode, decode and bytes (a run with codecs) */
  wire: boolean;
  /** which edge (0 with one) */
  edge: number;
  /** the stress the condition asks of the cloud: the stream line's, when the cloud does not say */
  cloudStress: { cpu: number; mem: number };
  /** the sweep's input cursor: frame i of the cell takes inputs[(first + i) % n] */
  firstInput: number;
}

/**
 * One scenario cell of `arm`: warm-up frames, then `reps` recorded ones, through a real pipeline
 * (runPipeline) on `link`. Throws what the pipeline throws (a LinkFailure: the caller reconnects
 * and measures the cell again from scratch).
 */
export async function measureStreamCell(runner: SplitRunner, link: CloudLink, arm: Arm, inputs: readonly SampleInput[], o: StreamCellOptions): Promise<StreamCell> {
  const frames = await runPipeline(
    { scenario: o.scenario, frames: o.warmup + o.reps, inFlight: o.inFlight, seed: o.seed },
    {
      edge: (i) => edgeStage(runner, arm, inputs[(o.firstInput + i) % inputs.length]!),
      cloud: (out) => link.infer(arm.cut, out.tensor!, out.encoded),
    },
  );
  return streamCellOf(frames.slice(o.warmup), o);
}

/** The recorded frames as a cell: completed frames in the histograms, every frame in the lines. */
export function streamCellOf(recorded: FrameRecord[], o: Pick<StreamCellOptions, 'scenario' | 'wire' | 'inFlight' | 'edge' | 'cloudStress'>): StreamCell {
  const recorder = new CellRecorder(o.wire, true);
  const done = recorded.filter(completed);
  for (const f of done) recorder.record(frameSample(f));
  const firstMs = recorded[0]?.arrival ?? 0;
  const lastMs = done.reduce((t, f) => Math.max(t, f.reply!), firstMs);
  const elapsed = lastMs - firstMs;
  const dropped = recorded.length - done.length;
  const stress = done.find((f) => f.stress)?.stress;
  return {
    recorder,
    firstMs,
    lastMs,
    stream: {
      scenario: scenarioLabel(o.scenario),
      edge: o.edge,
      offered: recorded.length,
      completed: done.length,
      dropped,
      refused: recorded.filter((f) => f.refused).length,
      elapsed_ms: Math.round(elapsed * 1000) / 1000,
      fps: elapsed > 0 ? Math.round(((done.length * 1000) / elapsed) * 1000) / 1000 : 0,
      in_flight: o.inFlight,
      cloud_stress: stress ? { cpu: stress.cpu, mem: stress.mem } : o.cloudStress,
    },
    frames: recorded.map((f, k) => frameLine(f, k, firstMs)),
  };
}
