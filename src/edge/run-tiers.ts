import { conditionKey, type Condition } from '../conditions/condition.js';
import type { Device } from '../conditions/device.js';
import { inferenceThreads, type BackendInfo } from '../engine/backend.js';
import { createSplitRunner, type SplitRunner } from '../engine/split-runner.js';
import type { Network } from '../model/network.js';
import type { PreprocessSpec } from '../protocol/messages.js';
import type { CutPoint } from '../model/partition.js';
import { configCount, configLabel, enumerateConfigs, isThreeTier, resolveConfigs, tierPoints, type TierConfig } from '../model/tier-configs.js';
import { pointWork } from '../model/work.js';
import { median } from '../analysis/stats.js';
import { UserError } from '../errors.js';
import { ResultsWriter } from '../results/log-writer.js';
import type { RunMetadata, ScheduleMeta } from '../results/metadata.js';
import { planHash, type PlanRecord } from '../results/plan.js';
import { calibrateSlowdown, type SlowdownResult } from './calibrate.js';
import type { CloudLink } from './cloud-link.js';
import { calibrationSetup } from './edge-slowdown.js';
import { measureTiers } from './measure-tiers.js';
import { ESTIMATE } from './shard.js';
import { formatDuration, ProgressTracker } from './progress.js';
import { prepareInputs } from './run-inputs.js';
import { connectCloud, freshResultsPath, loadPoints, runMetadata, selectedBackend, type EdgeRunOptions } from './run-edge.js';
import { newScheduleSeed, orderConditions } from './schedule.js';
import type { ConditionController } from './sweep.js';
import { runTierSweep, type TierSweepStats } from './tier-sweep.js';
import { benchmarkInput } from '../engine/split-runner.js';
import { logWarmUp, warmUntilSettled } from './warm-up.js';

/**
 * dnn-edge --tiers 3: this process is the device; `host` runs dnn-relay (the edge tier), which
 * forwards to a dnn-cloud. Every configuration (x, y) of the chosen points is measured under every
 * condition (src/edge/tier-sweep.ts) into one results file of three-tier cells.
 */

export interface TierRunSettings {
  /** --device-slowdown: calibrate this process's device (`edge` in EdgeRunOptions) to X times the cloud */
  deviceSlowdown?: number;
  /** --max-configs */
  maxConfigs?: number;
  /** --configs: exactly these 'x|y' */
  configs?: string[];
}

export interface TierRunOptions extends Omit<EdgeRunOptions, 'labEdge' | 'edges' | 'cellBarrier' | 'race' | 'scenario' | 'shard'> {
  tiers: TierRunSettings;
  /** the lab's edge tier as a device (its cgroup): --edge-slowdown (`slowdown`) calibrates it */
  relayDevice?: Device;
  /** what puts a condition in effect on the two links (the lab's); default: nothing (the links as they are) */
  controller?: ConditionController;
}

export interface TierPlan {
  network: Network;
  /** the points the configurations are built from (the selection plus the input and output points) */
  points: CutPoint[];
  configs: TierConfig[];
  conditions: Condition[];
}

/** The network and the points the configurations are built from: loaded once per run (the model load is the slow part of a plan). */
export interface TierPoints {
  network: Network;
  /** the --cuts selection (the input and output points are added by the plan) */
  selected: CutPoint[];
}

type TierPlanOptions = Pick<TierRunOptions, 'network' | 'seed' | 'inputShape' | 'cuts' | 'conditions' | 'tiers'>;

/** Loads the network and selects its points (one-line UserErrors for the network and --cuts). */
export function loadTierPoints(o: TierPlanOptions): Promise<TierPoints> {
  return loadPoints({ ...o, maxPoints: undefined });
}

/** The configurations of the loaded network (sampled with `seed` under --max-configs; a UserError for --configs not among its points): what a run and --dry-run need. */
export function tierPlan({ network, selected }: TierPoints, o: TierPlanOptions, seed: number): TierPlan {
  const points = tierPoints(network.cuts, selected);
  const configs = o.tiers.configs ? resolveConfigs(network.cuts, o.tiers.configs, o.network) : enumerateConfigs(points, { maxConfigs: o.tiers.maxConfigs, seed });
  return { network, points: o.tiers.configs ? [...new Set(configs.flatMap((c) => [c.x, c.y]))].sort((a, b) => network.cuts.indexOf(a) - network.cuts.indexOf(b)) : points, configs, conditions: o.conditions };
}

/** loadTierPoints, then tierPlan. */
export async function prepareTierPlan(o: TierPlanOptions, seed: number): Promise<TierPlan> {
  return tierPlan(await loadTierPoints(o), o, seed);
}

/** The plan record of a three-tier sweep: its configurations are in the hash (a resume measures the same ones). */
export function tierPlanRecord(p: TierPlan, reps: number, warmup: number): PlanRecord {
  const body = { network: p.network.id, fingerprint: p.network.fingerprint, conditions: p.conditions.map(conditionKey), cuts: p.points.map((c) => c.layer), reps, warmup, tiers: { count: 3 as const, configs: p.configs.map(configLabel) } };
  return { hash: planHash(body), ...body };
}

/**
 * Nominal time of one sample of (x, y) under c, ms: each tier's share of the model's work at the
 * nominal rate (times its slowdown), the crossings at the two link rates, and the fixed overheads.
 */
export function tierSampleMs(work: Map<string, { edgeMacs: number; cloudMacs: number }>, k: TierConfig, c: Condition, slow: { device?: number; edge?: number }): number {
  const wx = work.get(k.x.layer)!;
  const wy = work.get(k.y.layer)!;
  const ms = (macs: number) => (macs / ESTIMATE.macsPerSecond) * 1000;
  const device = ms(wx.edgeMacs) * (slow.device ?? 1);
  const edge = ms(Math.max(0, wy.edgeMacs - wx.edgeMacs)) * (slow.edge ?? 1);
  const cloud = ms(wy.cloudMacs);
  const link = (bytes: number, mbit: number | null) => (bytes * 8) / ((mbit ?? ESTIMATE.unshapedMbit) * 1000);
  const sent = k.x.kind === 'output' ? 0 : link(k.x.bytes, c.dnet) + ESTIMATE.sampleOverheadMs;
  const forwarded = k.x.kind === 'output' || k.y.kind === 'output' ? 0 : link(k.y.bytes, c.net) + ESTIMATE.sampleOverheadMs;
  return device + edge + cloud + sent + forwarded;
}

/** What --dry-run --tiers 3 prints: points, configurations (sampled or not), cells, inferences, estimated time. */
export function formatTierDryRun(p: TierPlan, o: { reps: number; warmup: number; maxConfigs?: number; deviceSlowdown?: number; edgeSlowdown?: number }): string {
  const all = configCount(p.points.length);
  const three = p.configs.filter(isThreeTier).length;
  const cells = p.conditions.length * p.configs.length;
  const inferences = cells * (o.reps + o.warmup);
  const work = pointWork(p.network);
  const ms = p.conditions.reduce((sum, c) => sum + ESTIMATE.settleMs + p.configs.reduce((s, k) => s + (o.reps + o.warmup) * tierSampleMs(work, k, c, { device: o.deviceSlowdown, edge: o.edgeSlowdown }), 0), 0);
  const sampled = p.configs.length < all ? ` (--max-configs ${o.maxConfigs ?? p.configs.length}: sampled from ${all}, device-only, edge-only and cloud-only kept; the sample is drawn with the run's seed)` : '';
  return [
    `three tiers: ${p.network.id}, ${p.points.length} points (the input and output points included) -> ${p.configs.length} configurations (x, y)${sampled}, ${three} of them three-tier`,
    `${p.conditions.length} conditions x ${p.configs.length} configurations = ${cells} cells, ${o.reps} samples + ${o.warmup} warm-up each = ${inferences.toLocaleString('en')} inferences`,
    `estimated ~${formatDuration(ms / 1000)} at a nominal ${ESTIMATE.macsPerSecond / 1e9} GMAC/s per tier${o.deviceSlowdown || o.edgeSlowdown ? ` (device ${o.deviceSlowdown ?? 1}x, edge tier ${o.edgeSlowdown ?? 1}x slower)` : ''} and ${ESTIMATE.settleMs / 1000} s to settle each condition: an estimate, not a promise`,
    '',
  ].join('\n');
}

/** The metadata's `tiers`: the tiers' slowdowns and the configurations (x, y) of the run (`configs`: how many). */
export function tiersMeta(o: Pick<TierRunOptions, 'tiers' | 'slowdown'>, configs: number): NonNullable<RunMetadata['tiers']> {
  return {
    count: 3,
    ...(o.tiers.deviceSlowdown ? { device_slowdown: o.tiers.deviceSlowdown } : {}),
    ...(o.slowdown ? { edge_slowdown: o.slowdown } : {}),
    configs,
    ...(o.tiers.maxConfigs !== undefined ? { max_configs: o.tiers.maxConfigs } : {}),
  };
}

export interface TierRunResult {
  file: string;
  network: Network;
  configs: TierConfig[];
  stats: TierSweepStats;
}

/** Calibrations run CALIBRATION_REPS alternating pairs per step after one that settles the new quota. */
const CALIBRATION_REPS = 7;

/**
 * A tier's full model against the cloud's, through the relay as the sweep measures them: `alone`
 * (device-only or edge-only) alternating with cloud-only; `tier` picks that tier's compute.
 */
function tierProbe(runner: SplitRunner, link: CloudLink, network: Network, alone: TierConfig, tier: 'device' | 'edge', device?: Device) {
  const first = network.cuts[0]!;
  const cloudOnly = { x: first, y: first };
  const input = { tensor: benchmarkInput(network.inputShape, network.seed) };
  const pair = async () => {
    const a = await measureTiers(runner, link, alone, input);
    const c = await measureTiers(runner, link, cloudOnly, input);
    return { edgeMs: a[tier] / 1000, cloudMs: c.cloud / 1000 };
  };
  return {
    pair,
    probe: {
      measure: async () => {
        const xs: { edgeMs: number; cloudMs: number }[] = [];
        for (let i = 0; i < 1 + CALIBRATION_REPS; i++) xs.push(await pair());
        const kept = xs.slice(1);
        return { edgeMs: median(kept.map((p) => p.edgeMs)), cloudMs: median(kept.map((p) => p.cloudMs)) };
      },
      setCores: (cores: number) => device?.setCpus(cores),
    },
  };
}

/** --device-slowdown and --edge-slowdown: each tier's CPU time calibrated against the cloud (the device first). */
export async function calibrateTiers(o: TierRunOptions, runner: SplitRunner, link: CloudLink, network: Network): Promise<{ device?: SlowdownResult; edge?: SlowdownResult }> {
  const first = network.cuts[0]!;
  const last = network.cuts[network.cuts.length - 1]!;
  const out: { device?: SlowdownResult; edge?: SlowdownResult } = {};
  const steps: ['device' | 'edge', number | undefined, Device | undefined, TierConfig, string][] = [
    ['device', o.tiers.deviceSlowdown, o.edge, { x: last, y: last }, '--device-slowdown'],
    ['edge', o.slowdown, o.relayDevice, { x: first, y: last }, '--edge-slowdown'],
  ];
  let warm = false;
  for (const [tier, target, device, alone, flag] of steps) {
    if (target === undefined || !device) continue;
    const p = tierProbe(runner, link, network, alone, tier, device);
    if (!warm) {
      logWarmUp(o.log, await warmUntilSettled(p.pair));
      warm = true;
    }
    const r = await calibrateSlowdown(target, device.cpuList.length, p.probe, o.log, flag);
    o.log(`${flag} ${target}: the ${tier === 'device' ? 'device' : 'edge tier'} reached ${r.reached.toFixed(2)}x with ${r.cores.toFixed(3)} cores of CPU time (full model ${r.edgeMs.toFixed(1)} ms there, ${r.cloudMs.toFixed(1)} ms on the cloud)${r.unreachable ? ': slower than asked already at full speed' : ''}`);
    out[tier] = r;
  }
  if (!warm) logWarmUp(o.log, await warmUntilSettled(tierProbe(runner, link, network, { x: last, y: last }, 'device').pair));
  return out;
}

/** connectCloud to the edge tier (`host`): a dnn-cloud there is refused with one line. */
export async function connectRelay(o: TierRunOptions, backend: BackendInfo, network: Network, preprocess?: PreprocessSpec): ReturnType<typeof connectCloud> {
  const { link, server } = await connectCloud(o, backend, network, preprocess);
  if (!server.relay) {
    await link.close().catch(() => undefined);
    throw new UserError(`${o.host}:${o.port} is a dnn-cloud, not a dnn-relay: --tiers 3 talks to the edge tier (dnn-relay <cloud-host> ${o.network}), which forwards to the cloud`);
  }
  return { link, server };
}

/**
 * Connects to the relay, proves the fingerprint, calibrates the tiers, sweeps every (condition,
 * configuration) cell into a results file. `loaded`: the network as the caller's checks loaded it,
 * on the backend selected (the configurations are drawn here, with the schedule's seed).
 */
export async function runTiers(o: TierRunOptions, loaded: TierPoints): Promise<TierRunResult> {
  const backend = await selectedBackend(o);
  // the schedule's seed first: it also draws the --max-configs sample, so a resume draws the same
  let schedule: ScheduleMeta = { seed: o.orderSeed ?? newScheduleSeed(), order: o.order, reference_every: 0, interleaved: true };
  let resumed: Awaited<ReturnType<typeof ResultsWriter.resume>> | undefined;
  if (o.resume) {
    resumed = await ResultsWriter.resume(o.resume);
    if (resumed.meta.schedule) schedule = resumed.meta.schedule;
  }
  try {
    const plan = tierPlan(loaded, o, schedule.seed);
    const { network, configs } = plan;
    const record = tierPlanRecord(plan, o.reps, o.warmup);
    if (resumed) {
      const was = resumed.meta.plan;
      if (resumed.meta.fingerprint !== network.fingerprint || !was?.tiers || was.hash !== record.hash) {
        throw new UserError(`${o.resume} is not this three-tier plan (${was?.tiers ? `plan ${was.hash}` : 'a two-tier file'}, this run's ${record.hash}); resume with the same network, conditions, --cuts, --configs/--max-configs, --reps and --warmup`);
      }
    }
    const inputs = await prepareInputs(o, network);
    const { link, server } = await connectRelay(o, backend, network, inputs.preprocess);
    const runner = createSplitRunner(network);
    const controller = o.controller ?? { apply: async () => undefined, release: async () => undefined };
    let writer: ResultsWriter | undefined;
    try {
      const slow = await calibrateTiers(o, runner, link, network);
      const threads = await inferenceThreads(backend.name);
      let file: string;
      let done = new Set<string>();
      if (resumed) {
        writer = resumed.writer;
        done = resumed.done;
        file = o.resume!;
        if (resumed.dropped.bytes > 0) o.log(`resume: dropped a torn last cell (${resumed.dropped.lines} lines); it will be measured again`);
      } else {
        file = freshResultsPath(o.out, network.id, new Date());
        const meta: RunMetadata = {
          ...runMetadata(o, network, backend, server, { ...o.setup, ...calibrationSetup(o.setup, slow.device), iface: o.iface, edge_stressor: 'none' }, schedule, threads, { plan: record }),
          tiers: tiersMeta(o, configs.length),
        };
        writer = await ResultsWriter.create(file, meta);
      }
      o.log(`results: ${file}`);
      o.log(`measuring ${configs.length} configurations (x, y) of ${plan.points.length} points under ${o.conditions.length} condition${o.conditions.length === 1 ? '' : 's'}, ${o.reps} samples each after ${o.warmup} warm-up, interleaved rep by rep (seed ${schedule.seed})`);
      const stats = await runTierSweep(
        { conditions: orderConditions(o.conditions, schedule.order, schedule.seed), configs, reps: o.reps, warmup: o.warmup, done, seed: schedule.seed },
        { runner, link, inputs: inputs.samples, sink: writer, controller, progress: new ProgressTracker() },
      );
      return { file, network, configs, stats };
    } finally {
      await runner.dispose();
      await controller.release().catch(() => undefined);
      if (writer && writer !== resumed?.writer) await writer.close();
      await link.close().catch(() => undefined);
    }
  } finally {
    await resumed?.writer.close().catch(() => undefined);
  }
}
