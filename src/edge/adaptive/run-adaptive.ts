import { NO_CONDITION, type Condition } from '../../conditions/condition.js';
import { resolveStressor, type StressorChoice } from '../../conditions/stress.js';
import { meanRate, type Schedule } from '../../conditions/trace.js';
import { TraceReplay } from '../../conditions/trace-replay.js';
import { benchmarkInput, createSplitRunner } from '../../engine/split-runner.js';
import { inferenceThreads } from '../../engine/backend.js';
import { UserError } from '../../errors.js';
import { loadResultFiles } from '../../analysis/load-results.js';
import { fitCostModel, type CostModel } from '../../analysis/cost-model.js';
import { ResultsWriter } from '../../results/log-writer.js';
import { EdgeConditionController } from '../condition-controller.js';
import { ProgressTracker } from '../progress.js';
import { freshResultsPath, openSession, runMetadata, type SessionOptions } from '../run-edge.js';
import { calibrateOrWarmUp, calibrationSetup } from '../edge-slowdown.js';
import { runSweep } from '../sweep.js';
import { autoStaticCuts, parsePolicies } from './policy.js';
import { runPolicies } from './stream.js';

export interface AdaptiveRunOptions extends SessionOptions {
  schedule: Schedule;
  /** how the schedule was made, for the metadata */
  replay: { file: string; scale: number; loop: boolean; duration_ms: number };
  policies: string;
  intervalMs?: number;
  /** results files to fit the cost model on; none = a short profile sweep first */
  profile: string[];
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
  const { backend, network, selected, link, server } = await openSession(o);
  // one runner for calibration, profile and stream (the onnx runner frees the TF.js weights it converted)
  const runner = createSplitRunner(network);
  // a weak edge is what makes the point move: calibrate it before the profile, as the sweep does
  const slowdown = await calibrateOrWarmUp(o, runner, link, network);
  const file = freshResultsPath(o.out, `${network.id}-adaptive`, new Date());
  const stressed = o.schedule.steps.some((s) => s.condition.ecpu || s.condition.emem || s.condition.ccpu || s.condition.cmem);
  const stressor = stressed ? await resolveStressor(o.stressor) : 'none';
  const writer = await ResultsWriter.create(
    file,
    runMetadata(
      { ...o, reps: PROFILE_REPS, warmup: 1 },
      network,
      backend,
      server,
      { ...o.setup, ...calibrationSetup(o.setup, slowdown), iface: o.iface, edge_stressor: stressor, adaptive: { ...o.replay, policies: o.policies, interval_ms: o.intervalMs ?? null, profile: o.profile } },
      undefined,
      await inferenceThreads(backend.name),
    ),
  );
  o.log(`results: ${file}`);
  const input = benchmarkInput(network.inputShape, network.seed);
  const stress = new EdgeConditionController({ iface: null, stressor: o.stressor, link });
  let replay: TraceReplay | null = null;
  try {
    const mean = meanRate(o.schedule);
    let model: CostModel;
    if (o.profile.length) {
      model = profileFrom(o.profile, network.id);
    } else {
      // Two rates a factor 4 apart around the trace's mean, so the link's rate factor is fitted, not
      // assumed, at rates the trace visits: a throttled edge may not drive a rate far above them
      // (its TCP stack runs on its own CPU time), and a fit there misjudges the trace's range.
      const rates = mean === null ? [50] : [...new Set([round2(mean / 2), round2(mean * 2)])];
      o.log(`profiling ${selected.length} points at ${rates.join(' and ')} Mbit/s (${PROFILE_REPS} samples each; --profile FILE skips this)`);
      const shaper = new EdgeConditionController({ iface: o.iface, stressor: o.stressor, link });
      try {
        await runSweep(
          { conditions: rates.map((net) => ({ ...NO_CONDITION, net })), cuts: selected, reps: PROFILE_REPS, warmup: 1, done: new Set(), seed: 1, referenceEvery: 0 },
          { runner, link, input, sink: writer, controller: shaper, progress: new ProgressTracker() },
        );
      } finally {
        await shaper.close();
      }
      model = profileFrom([file], network.id);
    }
    o.log(`cost model: ${model.cuts.length} points, rate factor ${model.beta.toFixed(3)}, delay factor ${model.gamma.toFixed(3)}`);
    const policies = parsePolicies(o.policies, model.cuts.map((c) => c.cut), () => autoStaticCuts(model, mean, model.fastest));
    const cuts = new Map(network.cuts.map((c) => [c.layer, c]));
    await runPolicies(
      { policies, intervalMs: o.intervalMs, initialRate: mean },
      {
        runner,
        link,
        input,
        cuts,
        model,
        schedule: o.schedule,
        startReplay: async (onApplied) => {
          replay = await TraceReplay.prepare(o.iface, o.schedule, { outside: o.edge?.outside });
          return await replay.start(onApplied);
        },
        stopReplay: async () => {
          const r = replay as TraceReplay | null;
          replay = null;
          await r?.close();
        },
        applyStress: async (c: Condition) => {
          await stress.release();
          await stress.apply({ ...c, net: null, delay: 0, jitter: 0, loss: 0 });
        },
        finished: (policy, recorder, requests, applied, startMs, endMs) =>
          writer.appendPolicy(policy, o.schedule.trace, recorder.histograms, { requests, applied }, startMs, endMs),
        log: o.log,
      },
    );
    return { file };
  } finally {
    await runner.dispose();
    await (replay as TraceReplay | null)?.close().catch((e: Error) => o.log(`restoring the link: ${e.message}`));
    await stress.close().catch((e: Error) => o.log(`restoring conditions: ${e.message}`));
    await writer.close();
    await link.close().catch(() => undefined);
  }
}

function profileFrom(files: string[], network: string): CostModel {
  const loaded = loadResultFiles(files);
  const data = loaded.networks.find((n) => n.network === network);
  if (!data) throw new UserError(`--profile: no results of ${network} in ${files.join(', ')}${loaded.problems.length ? ` (${loaded.problems[0]})` : ''}`);
  const model = fitCostModel(data, 'p50');
  if ('reason' in model) throw new UserError(`--profile: no cost model for ${network}: ${model.reason}`);
  return model;
}

const round2 = (v: number) => Math.max(0.01, Math.round(v * 100) / 100);
