import { NO_CONDITION, type Condition } from '../../conditions/condition.js';
import { resolveStressor, type StressorChoice } from '../../conditions/stress.js';
import { meanRate, type Schedule } from '../../conditions/trace.js';
import { TraceReplay, type AppliedStep } from '../../conditions/trace-replay.js';
import { createSplitRunner, type SplitRunner } from '../../engine/split-runner.js';
import { inferenceThreads } from '../../engine/backend.js';
import type { CostModel } from '../../analysis/cost-model.js';
import { ResultsWriter } from '../../results/log-writer.js';
import { EdgeConditionController } from '../condition-controller.js';
import { ProgressTracker } from '../progress.js';
import { codecsMeta, freshResultsPath, measureArmsFidelity, openSession, runArms, runMetadata, type Session, type SessionOptions } from '../run-edge.js';
import { armName, hasEncodedArms, type Arm } from '../arms.js';
import { calibrateOrWarmUp, calibrationSetup } from '../edge-slowdown.js';
import { runSweep } from '../sweep.js';
import { newScheduleSeed } from '../schedule.js';
import { autoStaticCuts, parsePolicies } from './policy.js';
import { armsWithinBudget, profileFromFiles, ProfileCells } from './profile.js';
import { runPolicies, type StreamDeps } from './stream.js';
import { slotSchedule } from './slots.js';

export interface AdaptiveRunOptions extends SessionOptions {
  schedule: Schedule;
  /** how the schedule was made, for the metadata */
  replay: { file: string; scale: number; loop: boolean; duration_ms: number };
  policies: string;
  intervalMs?: number;
  /** --scenario stream:FPS: a camera's frames (up to inFlight in flight) instead of requests one at a time */
  camera?: { fps: number; inFlight: number };
  /** --policy-slot: the policies interleaved in slots of this much trace time (ms); null: each replays the whole trace in turn */
  slotMs: number | null;
  /** --order-seed: seed of the slots' shuffled orders (default: a fresh one, recorded) */
  slotSeed?: number;
  /** results files to fit the cost model on; none = a short profile sweep first */
  profile: string[];
  /** --max-agreement-loss: the policies choose among arms within this budget (percentage points of top-1 agreement) */
  maxAgreementLoss: number;
  /** the interface the trace is replayed on (egress towards the cloud) */
  iface: string;
  stressor: StressorChoice;
  out: string;
  setup: Record<string, unknown>;
  commandLine: string[];
}

/** Profile reps of the short sweep run when no --profile is given. */
const PROFILE_REPS = 3;

/**
 * dnn-edge --trace: fit (or measure) the profile, then replay the trace once per policy with a
 * stream of inferences, into one results file: the profile cells (if measured), then per policy
 * its timeline and histograms.
 */
export async function runAdaptive(o: AdaptiveRunOptions): Promise<{ file: string }> {
  const slotSeed = o.slotSeed ?? newScheduleSeed();
  const session = await openSession(o);
  // one runner for calibration, profile and stream (the onnx runner frees the TF.js weights it converted)
  const runner = createSplitRunner(session.network);
  const { file, writer, profiled } = await openResults(o, session, runner, slotSeed);
  const stress = new EdgeConditionController({ iface: null, stressor: o.stressor, link: session.link });
  const replay = new ReplayHandle(o);
  try {
    const mean = meanRate(o.schedule);
    // every arm this run can send, built as the sweep builds them: the model's arms (a profile's too) are looked up here
    const sendable = new Map(runArms(o, session.network, session.network.cuts).map((a) => [armName(a), a]));
    const model = o.profile.length
      ? profileFromFiles(o.profile, session.network.id, { arms: sendable, maxLoss: o.maxAgreementLoss, log: o.log })
      : await measureProfile(o, session, runner, profiled, writer, mean);
    const encoded = model.cuts.filter((c) => c.codec !== undefined).length;
    o.log(`cost model: ${model.cuts.length} ${encoded ? `arms (${encoded} encoded)` : 'points'}, rate factor ${model.beta.toFixed(3)}, delay factor ${model.gamma.toFixed(3)}`);
    const policies = parsePolicies(o.policies, model.cuts.map((c) => c.cut), () => autoStaticCuts(model, mean, model.fastest));
    await runPolicies({ policies, intervalMs: o.intervalMs, initialRate: mean, slotMs: o.slotMs, slotSeed, ...(o.camera ? { camera: o.camera } : {}) }, streamDeps(o, session, runner, sendable, model, writer, stress, replay));
    return { file };
  } finally {
    await runner.dispose();
    await replay.close().catch((e: Error) => o.log(`restoring the link: ${e.message}`));
    await stress.close().catch((e: Error) => o.log(`restoring conditions: ${e.message}`));
    await writer.close();
    await session.link.close().catch(() => undefined);
  }
}

/**
 * Calibrates the edge (a weak edge is what makes the point move, as in the sweep); without
 * --profile, measures the fidelity of the encoded arms (as the sweep does, into the metadata) and
 * keeps those within the budget for the profile; then opens a fresh results file with the run's
 * metadata. With --profile the files' fidelity records judge the arms.
 */
async function openResults(o: AdaptiveRunOptions, session: Session, runner: SplitRunner, slotSeed: number): Promise<{ file: string; writer: ResultsWriter; profiled: Arm[] }> {
  const { backend, network, link, server, arms, inputs } = session;
  const slowdown = await calibrateOrWarmUp(o, runner, link, network);
  const fidelity = hasEncodedArms(arms) && !o.profile.length ? await measureArmsFidelity(o, runner, network, arms, inputs) : undefined;
  const profiled = fidelity ? armsWithinBudget(network.id, arms, fidelity, o.maxAgreementLoss, o.log) : arms;
  // the metadata's codecs say the cells carry encode, decode and bytes: so they do when an encoded arm is profiled
  const codecs = codecsMeta(o, o.profile.length ? arms : profiled);
  const budget = hasEncodedArms(arms) ? { max_agreement_loss: o.maxAgreementLoss } : {};
  const file = freshResultsPath(o.out, `${network.id}-adaptive`, new Date());
  const stressed = o.schedule.steps.some((s) => s.condition.ecpu || s.condition.emem || s.condition.ccpu || s.condition.cmem);
  const stressor = stressed ? await resolveStressor(o.stressor) : 'none';
  const writer = await ResultsWriter.create(
    file,
    runMetadata(
      // the profile's cells are single requests: the camera is in `adaptive`, not the file's scenario
      { ...o, reps: PROFILE_REPS, warmup: 1, scenario: undefined, edges: undefined },
      network,
      backend,
      server,
      { ...o.setup, ...calibrationSetup(o.setup, slowdown), iface: o.iface, edge_stressor: stressor, adaptive: { ...o.replay, policies: o.policies, interval_ms: o.intervalMs ?? null, profile: o.profile, ...slotsMeta(o.slotMs, slotSeed), ...budget, ...(o.camera ? { scenario: `stream:${String(o.camera.fps)}`, in_flight: o.camera.inFlight } : {}) } },
      undefined,
      await inferenceThreads(backend.name),
      undefined,
      { inputs: inputs.meta, codecs, fidelity },
    ),
  );
  o.log(`results: ${file}`);
  return { file, writer, profiled };
}

/**
 * No --profile: a short sweep of the selected points into the results file, and the model fitted
 * on its cells as measured. Two rates a factor 4 apart around the trace's mean, so the link's rate
 * factor is fitted, not assumed, at rates the trace visits: a throttled edge may not drive a rate
 * far above them (its TCP stack runs on its own CPU time), and a fit there misjudges the trace's range.
 */
async function measureProfile(o: AdaptiveRunOptions, session: Session, runner: SplitRunner, arms: Arm[], writer: ResultsWriter, mean: number | null): Promise<CostModel> {
  const { network, link, inputs } = session;
  const points = [...new Set(arms.map((a) => a.cut))];
  const rates = mean === null ? [50] : [...new Set([round2(mean / 2), round2(mean * 2)])];
  const asArms = arms.length > points.length ? ` as ${arms.length} arms (point, codec)` : '';
  o.log(`profiling ${points.length} points${asArms} at ${rates.join(' and ')} Mbit/s (${PROFILE_REPS} samples each; --profile FILE skips this)`);
  const cells = new ProfileCells(writer);
  const shaper = new EdgeConditionController({ iface: o.iface, stressor: o.stressor, link });
  try {
    await runSweep(
      { conditions: rates.map((net) => ({ ...NO_CONDITION, net })), cuts: points, arms, reps: PROFILE_REPS, warmup: 1, done: new Set(), seed: 1, referenceEvery: 0 },
      { runner, link, inputs: inputs.samples, sink: cells, controller: shaper, progress: new ProgressTracker() },
    );
  } finally {
    await shaper.close();
  }
  return cells.model(network.id, arms);
}

/**
 * The trace's replay on the link: our qdiscs installed at the first slot (the whole trace when not
 * interleaved) and kept until the run's end; each slot of each policy is a window played by the one
 * timer process, paused after it.
 */
export class ReplayHandle {
  private replay: TraceReplay | null = null;

  /** `netns`: the namespace the interface is in (the three-tier lab's edge-cloud link); default this one */
  constructor(private readonly o: Pick<AdaptiveRunOptions, 'iface' | 'schedule' | 'edge'> & { netns?: string }) {}

  async start(onApplied: (a: AppliedStep) => void, window: { fromMs: number; toMs: number }, ready: () => Promise<void>): Promise<number> {
    const piece = slotSchedule(this.o.schedule, window.fromMs, window.toMs);
    this.replay ??= await TraceReplay.prepare(this.o.iface, this.o.schedule, { outside: this.o.edge?.outside, ...(this.o.netns ? { netns: this.o.netns } : {}) });
    // the slot's steps are reported as the whole trace's: its index, its times in trace time
    return await this.replay.startWindow(piece.schedule, (a) => onApplied({ ...a, step: piece.steps[a.step] ?? a.step, scheduled_ms: a.scheduled_ms + window.fromMs, applied_ms: a.applied_ms + window.fromMs }), ready);
  }

  /** The slot's end: its steps not yet due are not applied; the link keeps the last one's condition. */
  async pause(): Promise<void> {
    await this.replay?.pauseWindow();
  }

  /** The run's end: the timer process stopped, our qdiscs removed. */
  async close(): Promise<void> {
    const r = this.replay;
    this.replay = null;
    await r?.close();
  }
}

/** What the policies' stream works with: the runner and link, the trace's replay, the stress it applies, and the results file each policy ends in. */
function streamDeps(o: AdaptiveRunOptions, session: Session, runner: SplitRunner, arms: ReadonlyMap<string, Arm>, model: CostModel, writer: ResultsWriter, stress: EdgeConditionController, replay: ReplayHandle): StreamDeps {
  return {
    runner,
    link: session.link,
    inputs: session.inputs.samples,
    arms,
    model,
    schedule: o.schedule,
    startReplay: (onApplied, window, ready) => replay.start(onApplied, window, ready),
    stopReplay: () => replay.pause(),
    applyStress: async (c: Condition) => {
      await stress.release();
      await stress.apply({ ...c, net: null, delay: 0, jitter: 0, loss: 0 });
    },
    finished: (policy, recorder, requests, applied, startMs, endMs, camera) => writer.appendPolicy(policy, o.schedule.trace, recorder.histograms, { requests, applied }, startMs, endMs, camera),
    turnDone: (requests) => writer.appendRequests(requests),
    log: o.log,
  };
}

/** The metadata of the interleaving: the slot length (null: sequential) and the seed of the slots' orders (each request line has its slot and place). */
export function slotsMeta(slotMs: number | null, seed: number) {
  return slotMs === null ? { policy_slot_s: null } : { policy_slot_s: slotMs / 1000, policy_slot_seed: seed };
}

const round2 = (v: number) => Math.max(0.01, Math.round(v * 100) / 100);
