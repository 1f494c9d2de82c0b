import { existsSync } from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { conditionKey, isStressed, type Condition } from '../conditions/condition.js';
import { selectBackend, describeBackend, inferenceThreads, type BackendChoice } from '../engine/backend.js';
import { createSplitRunner } from '../engine/split-runner.js';
import { assertNetworkSpec, type Network } from '../model/network.js';
import { loadNetwork } from '../engine/load-network.js';
import { selectCutsOrThrow, type CutPoint } from '../model/partition.js';
import { PROTOCOL_VERSION } from '../protocol/constants.js';
import { ResultsWriter } from '../results/log-writer.js';
import { RESULTS_FORMAT, type RunConditions, type RunMetadata, type ScheduleMeta } from '../results/metadata.js';
import { readResultsFile } from '../results/log-reader.js';
import { newScheduleSeed, orderConditions, type Order } from './schedule.js';
import { hostInfo } from '../host-info.js';
import { UserError } from '../errors.js';
import { ProtocolLink, helloFor } from './protocol-link.js';
import { ProgressTracker } from './progress.js';
import { runSweep, type SweepDeps, type SweepStats } from './sweep.js';
import { DEFAULT_IN_FLIGHT, isPipelined, scenarioLabel, type Scenario } from './stream/scenario.js';
import { EdgeConditionController } from './condition-controller.js';
import { spreadPoints, describeGrid } from './run-selection.js';
import { shardPlan, shardRecord, type PointCost, type ShardSpec, type ShardedPlan } from './shard.js';
import { formatDuration } from './progress.js';
import { pointWork } from '../model/work.js';
import { shardCells, type PlanRecord, type RaceMeta, type ShardRecord } from '../results/plan.js';
import { DEFAULT_CONFIDENCE } from '../analysis/build-report.js';
import { raceLooks } from './race/race.js';
import { loadResultFiles } from '../analysis/load-results.js';
import { resolveStressor, type StressorChoice } from '../conditions/stress.js';
import type { Device } from '../conditions/device.js';
import { calibrateOrWarmUp, calibrationSetup } from './edge-slowdown.js';
import { cloudCodecProblem, type Codec } from '../codecs/index.js';
import { f32Codec } from '../codecs/f32.js';
import type { InputCodec, PreprocessMode } from '../inputs/index.js';
import type { PreprocessSpec } from '../protocol/messages.js';
import type { FidelityRecord } from '../results/metadata.js';
import { F32_WIRE, armsOf, checkArmsInputs, hasEncodedArms, inputWire, isF32, tensorWire, type Arm } from './arms.js';
import { prepareInputs, type RunInputs } from './run-inputs.js';
import { measureFidelity, measureFidelityOnTensors } from '../fidelity/index.js';
import type { SplitRunner } from '../engine/split-runner.js';
import { barrierController, edgeSink, type EdgeRole } from './lab-edges/role.js';

export interface EdgeRunOptions {
  host: string;
  port: number;
  network: string;
  backend: BackendChoice;
  /** onnx: intra-op threads (default: the CPUs this process may use) */
  threads?: number;
  seed: number;
  inputShape?: number[];
  cuts: string;
  reps: number;
  warmup: number;
  out: string;
  resume?: string;
  giveUpMs: number;
  timeoutMs: number;
  maxFrame: number;
  token?: string;
  conditions: Condition[];
  /** interface to shape (egress towards the cloud); null = the network as it is */
  iface: string | null;
  stressor: StressorChoice;
  /** measure at most this many points, evenly spread (--quick) */
  maxPoints?: number;
  /** the edge's device (cgroup), when this run made one */
  edge?: Device;
  /** --edge-slowdown: calibrate the edge device's CPU time to this ratio before measuring (needs `edge`) */
  slowdown?: number;
  /** --order: conditions within a block of one network shaping shuffled, or as listed */
  order: Order;
  /** --reference-every: re-measure the reference cell every K conditions (0 = never) */
  referenceEvery: number;
  /** --order-seed: seed of the shuffles (default: a fresh one; a resumed run keeps its file's) */
  orderSeed?: number;
  /** measure only this shard of the plan (--shard K/N or the batch system's index) */
  shard?: ShardSpec;
  /** extra facts about how the run was set up, for the metadata */
  setup: RunConditions;
  commandLine: string[];
  log: (line: string) => void;
  /** --codec: tensor codecs at the inner points (default f32 alone) */
  codecs?: Codec[];
  /** --input-codec: what crosses at the input point (default f32 alone: the preprocessed tensor) */
  inputCodecs?: InputCodec[];
  /** --inputs as given: image files and folders, or ['random']; undefined: the shipped photographs */
  inputs?: string[];
  /** --preprocess: instead of the network's own convention */
  preprocess?: PreprocessMode;
  /** the image codecs at the input point are the quick look's default, not asked for: dropped when the network has no camera frames */
  optionalImageCodecs?: boolean;
  /** lab --edges N (N > 1): this edge's part in the run (src/edge/lab-edges/) */
  labEdge?: EdgeRole;
  /** --scenario: the load of every cell (default single) */
  scenario?: Scenario;
  /** --in-flight: the cap on frames in flight of a scenario cell */
  inFlight?: number;
  /** several edges on one cloud (lab --edges N, N > 1): how many, and which this process is (0..N-1); its cells are tagged `;edge=I` */
  edges?: { count: number; index: number };
  /** several edges: awaited before each scenario cell (SweepDeps.cellBarrier) */
  cellBarrier?: SweepDeps['cellBarrier'];
  /** --race: race each condition's points (--min-reps, --race-prior; null: no prior) */
  race?: RaceOptions;
}

/** --race's settings as given. */
export interface RaceOptions {
  minReps: number;
  prior: number | null;
}

/** The metadata's and the plan's `race`: the settings and the elimination test's confidence (the report's default). */
export function raceMeta(r: RaceOptions | undefined, reps: number): RaceMeta | undefined {
  return r ? { min_reps: r.minReps, prior: r.prior, confidence: DEFAULT_CONFIDENCE, looks: raceLooks({ minReps: r.minReps, reps }) } : undefined;
}


export interface EdgeRunResult {
  file: string;
  network: Network;
  cuts: CutPoint[];
  stats: SweepStats;
}

const require = createRequire(import.meta.url);
type CodecsMeta = NonNullable<RunMetadata['codecs']>;
type InputsMeta = NonNullable<RunMetadata['inputs']>;

const TOOL_VERSION = (require('../../../package.json') as { version: string }).version;

/** What loading the network and choosing its points needs. */
type PointsOptions = Pick<EdgeRunOptions, 'network' | 'seed' | 'inputShape' | 'cuts' | 'maxPoints'>;

/** The network (built on the selected backend) and the points to measure; unknown --cuts are user errors. */
export async function loadPoints(o: PointsOptions): Promise<{ network: Network; selected: CutPoint[] }> {
  const network = await loadNetwork(o.network, { seed: o.seed, inputShape: o.inputShape });
  const chosen = selectCutsOrThrow(network.cuts, o.cuts, network.id, o.network);
  const selected = o.maxPoints ? spreadPoints(chosen, o.maxPoints) : chosen;
  return { network, selected };
}

export type PlanOptions = Pick<EdgeRunOptions, 'network' | 'seed' | 'inputShape' | 'cuts' | 'reps' | 'warmup' | 'conditions' | 'maxPoints' | 'shard' | 'codecs' | 'inputCodecs' | 'scenario' | 'race'>;

/** The scenario's label when it has frames in flight; undefined for single (files and plans as before scenarios). */
export function pipelinedLabel(s: Scenario | undefined): string | undefined {
  return s && isPipelined(s) ? scenarioLabel(s) : undefined;
}

export interface PreparedPlan {
  network: Network;
  /** the points the plan measures */
  selected: CutPoint[];
  /** the (point, codec) arms: each point's arms are measured by the shard that owns the point */
  arms: Arm[];
  sharded: ShardedPlan;
  /** each point's nominal cost (its arms together), in `selected` order: what the estimates rest on */
  points: PointCost[];
  /** the plan's conditions, in plan order */
  conditions: Condition[];
  /** the cells this run measures (undefined: all of them) */
  owned?: Set<string>;
  shardRecord?: ShardRecord;
}

/**
 * The model, its measured points and the plan with its shards: everything a run or --dry-run
 * needs before any change to the machine. The plan is in the conditions' listed order (not the
 * run's shuffled order), so every shard of it computes the same cells.
 */
export async function preparePlan(o: PlanOptions): Promise<PreparedPlan> {
  const { network, selected } = await loadPoints(o);
  const arms = runArms(o, network, selected);
  const work = pointWork(network);
  // a point's cell in the plan is all its arms: its estimate counts each (their bytes as float32, a bound)
  const armsAt = (c: CutPoint) => arms.filter((a) => a.cut === c).length;
  const points = selected.map((c) => {
    const w = work.get(c.layer)!;
    const k = armsAt(c);
    return { edgeMacs: w.edgeMacs * k, cloudMacs: w.cloudMacs * k, bytes: c.bytes * k };
  });
  const sharded = shardPlan(
    { network: network.id, fingerprint: network.fingerprint, conditions: o.conditions, cuts: selected.map((c) => c.layer), reps: o.reps, warmup: o.warmup, ...(pipelinedLabel(o.scenario) ? { scenario: pipelinedLabel(o.scenario) } : {}), ...(o.race ? { race: raceMeta(o.race, o.reps) } : {}) },
    points,
    o.shard?.count ?? 1,
  );
  if (!o.shard) return { network, selected, arms, sharded, points, conditions: o.conditions };
  return {
    network,
    selected,
    arms,
    sharded,
    points,
    conditions: o.conditions,
    owned: shardCells(sharded.plan, sharded.partition.bounds, o.shard.index),
    shardRecord: shardRecord(sharded.partition, o.shard),
  };
}

/**
 * The arms of a run: the input point with each --input-codec, every inner point with each --codec
 * (int8-ch quantising the channels of this network's layout), the edge-only point once.
 */
export function runArms(o: Pick<EdgeRunOptions, 'codecs' | 'inputCodecs'>, network: Network, selected: readonly CutPoint[]): Arm[] {
  const layout = network.source === 'onnx' ? 'nchw' : 'nhwc';
  const inner = (o.codecs ?? [f32Codec]).map((c) => tensorWire(c, layout));
  const input = o.inputCodecs ? o.inputCodecs.map(inputWire) : [F32_WIRE];
  return armsOf(selected, input, inner);
}

/**
 * The quick look's default JPEG at the input needs camera frames: on a network whose input is not an
 * image (so the run falls back to the random input) it is dropped, with a note. A JPEG the user asked
 * for stays, and checkArmsInputs refuses it.
 */
function imageArmsFor(o: Pick<EdgeRunOptions, 'optionalImageCodecs' | 'inputCodecs' | 'log'>, arms: Arm[], images: boolean): { arms: Arm[]; inputCodecs?: InputCodec[] } {
  if (images || !o.optionalImageCodecs) return { arms, inputCodecs: o.inputCodecs };
  const dropped = arms.filter((a) => a.codec.kind === 'image').map((a) => a.codec.label);
  if (dropped.length) o.log(`note: no camera frames for this network: the quick look measures the input point as raw float32 only (not ${[...new Set(dropped)].join(', ')})`);
  return { arms: arms.filter((a) => a.codec.kind !== 'image'), inputCodecs: o.inputCodecs?.filter((c) => c.name === 'f32') };
}

/** The codecs of the metadata: present when some arm is encoded (its cells then have encode, decode, bytes). */
export function codecsMeta(o: Pick<EdgeRunOptions, 'codecs' | 'inputCodecs'>, arms: Arm[]): CodecsMeta | undefined {
  if (!hasEncodedArms(arms)) return undefined;
  return { input: o.inputCodecs ? o.inputCodecs.map((c) => c.label) : ['f32'], inner: (o.codecs ?? [f32Codec]).map((c) => c.name) };
}

/** What connecting to a cloud needs (shared by the grid sweep and the adaptive run). */
export type SessionOptions = Pick<
  EdgeRunOptions,
  'host' | 'port' | 'network' | 'backend' | 'threads' | 'seed' | 'inputShape' | 'cuts' | 'maxPoints' | 'giveUpMs' | 'timeoutMs' | 'maxFrame' | 'token' | 'log' | 'edge' | 'slowdown' | 'codecs' | 'inputCodecs' | 'inputs' | 'preprocess'
>;

export async function selectedBackend(o: Pick<EdgeRunOptions, 'network' | 'backend' | 'threads' | 'log'>) {
  assertNetworkSpec(o.network, o.backend);
  const backend = await selectBackend(o.backend, { threads: o.threads });
  o.log(describeBackend(backend));
  return backend;
}

/** A connection to the cloud that proved it serves this very network (fingerprint). */
export async function connectCloud(o: SessionOptions, backend: Awaited<ReturnType<typeof selectBackend>>, network: Network, preprocess?: PreprocessSpec) {
  if (network.note) o.log(`note: ${network.note}`);
  const link = await ProtocolLink.open({
    host: o.host,
    port: o.port,
    maxFrame: o.maxFrame,
    requestTimeoutMs: o.timeoutMs,
    giveUpMs: o.giveUpMs,
    log: o.log,
    hello: helloFor(network, backend.name, o.token, preprocess),
  });
  const server = link.server!;
  o.log(`connected to ${o.host}:${o.port}: cloud ${server.host} (${server.backend}, ${server.cores} cores) serves ${network.id}, fingerprint ${network.fingerprint.slice(0, 12)} matches`);
  return { link, server };
}

/**
 * Backend, network, points and their arms, the run's inputs (checked against the arms before
 * anything connects), then a connection to the cloud that proved the fingerprint.
 */
export async function openSession(o: SessionOptions) {
  const backend = await selectedBackend(o);
  const { network, selected } = await loadPoints(o);
  const arms = runArms(o, network, selected);
  const inputs = await prepareInputs(o, network);
  checkArmsInputs(arms, inputs.images);
  const { link, server } = await connectCloud(o, backend, network, inputs.preprocess);
  return { backend, network, selected, arms, inputs, link, server };
}

/** Connects, proves the fingerprint, sweeps every (condition, point) cell of the plan or of its shard into a results file. */
export async function runEdge(o: EdgeRunOptions): Promise<EdgeRunResult> {
  const backend = await selectedBackend(o);
  const plan = await preparePlan(o);
  const { network, selected, sharded, owned, shardRecord: shard } = plan;
  const inputs = await prepareInputs(o, network);
  const { arms, inputCodecs } = imageArmsFor(o, plan.arms, inputs.images);
  checkArmsInputs(arms, inputs.images);
  const codecs = codecsMeta({ ...o, inputCodecs }, arms);
  const { link, server } = await connectCloud(o, backend, network, inputs.preprocess);
  const undecodable = cloudCodecProblem(o.codecs ?? [], server.versions);
  if (undecodable !== null) {
    await link.close().catch(() => undefined);
    throw new UserError(undecodable);
  }
  // one runner for calibration and sweep: the onnx runner converts the model once and frees its TF.js weights
  const runner = createSplitRunner(network);

  // Warm-up and calibration run against an unstressed cloud, so this edge holds "no cloud stress" from
  // the start: another edge holding a stress refuses us here (CONDITION_CONFLICT, naming it), before anything runs.
  if ((o.labEdge?.index ?? 0) === 0) {
    await link.setCloudStress(0, 0).catch(async (e: unknown) => {
      await link.close().catch(() => undefined);
      throw e;
    });
  }
  const slowdown = await calibrateOrWarmUp(o, runner, link, network);

  const needsStress = o.conditions.some(isStressed);
  const stressor = needsStress ? await resolveStressor(o.stressor) : 'none';
  const armsNote = arms.length > selected.length ? ` as ${arms.length} arms (point, codec)` : '';
  const load = pipelinedLabel(o.scenario);
  const each = load ? `scenario ${load}: ${o.reps} frames offered per cell after ${o.warmup} warm-up frames, at most ${o.inFlight ?? DEFAULT_IN_FLIGHT} in flight` : `${o.reps} samples each after ${o.warmup} warm-up`;
  o.log(`measuring ${selected.length} of ${network.cuts.length} points${armsNote} under ${describeGrid(o.conditions)}, ${each}`);
  if (shard) o.log(`shard ${shard.index}/${shard.count} of plan ${sharded.plan.hash}: ${owned!.size} of ${sharded.plan.conditions.length * selected.length} cells, estimated ${formatDuration(shard.predicted_s)}`);

  const threads = await inferenceThreads(backend.name);
  let writer: ResultsWriter | undefined;
  let done = new Set<string>();
  let file: string;
  let schedule: ScheduleMeta = { seed: o.orderSeed ?? newScheduleSeed(), order: o.order, reference_every: o.referenceEvery, interleaved: pipelinedLabel(o.scenario) === undefined };
  let referenceCut: string | undefined;
  if (o.labEdge?.sink) {
    file = ''; // a follower of the lab: its cells go to the lab's file
  } else if (o.resume) {
    const r = await ResultsWriter.resume(o.resume);
    if (r.meta.fingerprint !== network.fingerprint) {
      await r.writer.close();
      throw new UserError(`${o.resume} holds results of ${r.meta.network} (fingerprint ${r.meta.fingerprint.slice(0, 12)}), not of this ${network.id} (${network.fingerprint.slice(0, 12)}); resume with the same network and --seed`);
    }
    const mismatch = resumeMismatch(r.meta, sharded.plan.hash, shard) ?? codecsMismatch(r.meta.codecs, codecs) ?? loadMismatch(r.meta, o);
    if (mismatch) {
      await r.writer.close();
      throw new UserError(`${o.resume} ${mismatch}; resume with the same flags (conditions, --cuts, --reps, --warmup, --shard, --codec, --input-codec, --scenario, --in-flight, --race, --min-reps, --race-prior)`);
    }
    writer = r.writer;
    done = r.done;
    file = o.resume;
    // the same order as the interrupted run: its seed and settings, from its metadata
    if (r.meta.schedule) schedule = r.meta.schedule;
    referenceCut = referenceInFile(o.resume, orderConditions(o.conditions, schedule.order, schedule.seed)[0]);
    if (r.dropped.bytes > 0) o.log(`resume: dropped a torn last cell (${r.dropped.lines} lines, ${r.dropped.bytes} bytes); it will be measured again`);
  } else {
    file = freshResultsPath(o.out, network.id, new Date(), o.shard);
    const fidelity = codecs ? await measureArmsFidelity(o, runner, network, arms, inputs) : undefined;
    const wire = { inputs: inputs.meta, codecs, fidelity };
    writer = await ResultsWriter.create(file, runMetadata(o, network, backend, server, { ...o.setup, ...calibrationSetup(o.setup, slowdown), iface: o.iface, edge_stressor: stressor }, schedule, threads, { plan: sharded.plan, shard }, wire));
  }
  if (writer) o.log(`results: ${file}`);
  if (writer) o.labEdge?.writing?.(writer);
  const ordered = orderConditions(o.conditions, schedule.order, schedule.seed);
  o.log(`order: ${load ? `${arms.length > selected.length ? 'arms' : 'points'} one cell after another in a shuffled order per condition` : `${arms.length > selected.length ? 'arms' : 'points'} interleaved rep by rep`}, conditions ${schedule.order} within each network rate (seed ${schedule.seed}); ${schedule.reference_every ? `reference cell every ${schedule.reference_every} conditions` : 'no reference cell'}`);

  const controller = new EdgeConditionController({ iface: o.iface, stressor: o.stressor, link, limits: o.edge?.limits ?? o.labEdge?.limits, sharesCloudStress: (o.labEdge?.index ?? 0) > 0 });
  const edges = o.labEdge;
  // several edges: each scenario cell starts on all of them together
  const cellBarrier = o.cellBarrier ?? (edges ? (key: string, arm: string) => edges.barrier(`cell ${key} ${arm}`) : undefined);
  try {
    const stats = await runSweep(
      {
        conditions: ordered,
        cuts: selected,
        arms,
        reps: o.reps,
        warmup: o.warmup,
        done,
        seed: schedule.seed,
        referenceEvery: schedule.reference_every,
        referenceCut,
        owned,
        ...(o.scenario ? { scenario: o.scenario } : {}),
        inFlight: o.inFlight ?? DEFAULT_IN_FLIGHT,
        arrivalSeed: o.seed,
        ...(o.edges && o.edges.count > 1 ? { edgeIndex: o.edges.index } : {}),
        ...(o.race ? { race: { ...o.race, reps: o.reps, confidence: DEFAULT_CONFIDENCE } } : {}),
        ...(o.race?.prior != null && o.resume ? { raceHistory: raceHistory(o.resume, network.id) } : {}),
      },
      {
        runner,
        link,
        inputs: inputs.samples,
        sink: edges ? (edges.sink ?? edgeSink(writer!, edges.index)) : writer!,
        controller: edges ? barrierController(controller, (key) => edges.barrier(key)) : controller,
        progress: new ProgressTracker(),
        ...(cellBarrier ? { cellBarrier } : {}),
      },
    );
    await edges?.finish?.();
    return { file, network, cuts: selected, stats };
  } finally {
    await runner.dispose();
    await controller.close().catch((e: Error) => o.log(`restoring conditions: ${e.message}`));
    await writer?.close();
    await link.close().catch(() => undefined);
  }

}

/**
 * The reference arm of an interrupted run: the one its references measured; before the first
 * reference, the fastest (median total) of the baseline's cells in the file; undefined when the
 * baseline is not measured yet (it is then chosen as the baseline is measured).
 */
function referenceInFile(path: string, baseline: Condition | undefined): string | undefined {
  const cells = readResultsFile(path).cells;
  const arm = (tag: { cut: string; codec?: string }) => (tag.codec === undefined ? tag.cut : `${tag.cut}@${tag.codec}`);
  const ref = cells.find((c) => c.tag.ref !== undefined);
  if (ref) return arm(ref.tag);
  if (!baseline) return undefined;
  const key = conditionKey(baseline);
  const totals = cells.filter((c) => c.tag.metric === 'total' && conditionKey(c.tag.condition) === key);
  totals.sort((a, b) => a.histogram.getValueAtPercentile(50) - b.histogram.getValueAtPercentile(50));
  return totals[0] ? arm(totals[0].tag) : undefined;
}

/** A resumed race's prior starts from the conditions already in the file (their cells, references apart). */
function raceHistory(file: string, network: string) {
  return loadResultFiles([file]).networks.find((n) => n.network === network)?.conditions ?? [];
}

/** Why a file's scenario or cap on frames in flight differs from this run's, or undefined. */
function loadMismatch(meta: RunMetadata, o: Pick<EdgeRunOptions, 'scenario' | 'inFlight'>): string | undefined {
  const show = (scenario: string | undefined, k: number | undefined) => (scenario ? `--scenario ${scenario} --in-flight ${k ?? DEFAULT_IN_FLIGHT}` : '--scenario single');
  const was = show(meta.scenario, meta.in_flight);
  const now = show(pipelinedLabel(o.scenario), o.inFlight);
  return was === now ? undefined : `measured ${was}, but this run is ${now}`;
}

/** Why a file's codecs differ from this run's (its cells are other arms), or undefined. */
function codecsMismatch(was: CodecsMeta | undefined, now: CodecsMeta | undefined): string | undefined {
  const show = (c: CodecsMeta | undefined) => (c ? `--input-codec ${c.input.join(',')} --codec ${c.inner.join(',')}` : 'f32 only');
  return show(was) === show(now) ? undefined : `measured ${show(was)}, but this run is ${show(now)}`;
}

/**
 * The fidelity of the run's encoded arms (src/fidelity/), for the metadata: each encoded crossing's
 * final output against the same split's float32 output, over the run's own inputs (its frames, or
 * the seeded random input). Measured once, before the sweep, on this edge.
 */
export async function measureArmsFidelity(o: Pick<EdgeRunOptions, 'log'>, runner: SplitRunner, network: Network, arms: Arm[], inputs: RunInputs): Promise<FidelityRecord[]> {
  const t0 = performance.now();
  const encoded = arms.filter((a) => !isF32(a.codec));
  const cuts = [...new Set(encoded.map((a) => a.cut))];
  const inner = [...new Map(encoded.flatMap((a) => (a.codec.kind === 'tensor' ? [[a.codec.label, a.codec.codec] as const] : []))).values()];
  const input = [...new Map(encoded.flatMap((a) => (a.codec.kind === 'image' ? [[a.codec.label, a.codec.source] as const] : []))).values()];
  const records = inputs.camera
    ? await measureFidelity(runner, network, cuts, { inner, input }, inputs.camera.frames, inputs.camera.convention)
    : await measureFidelityOnTensors(runner, network, cuts.filter((c) => c.kind !== 'input'), inner, inputs.samples.map((s) => s.tensor!));
  const wanted = new Set(encoded.map((a) => `${a.cut.layer}@${a.codec.label}`));
  const out = records.filter((r) => wanted.has(`${r.cut}@${r.codec}`));
  o.log(`fidelity of ${out.length} encoded arms over ${out[0]?.inputs ?? 0} inputs in ${((performance.now() - t0) / 1000).toFixed(1)} s (recorded in the metadata)`);
  return out;
}

/** Why a results file cannot be resumed by this run's plan and shard, or undefined when it can. */
export function resumeMismatch(meta: RunMetadata, planHash: string, shard: ShardRecord | undefined): string | undefined {
  if (meta.plan && meta.plan.hash !== planHash) return `belongs to plan ${meta.plan.hash}, not to this run's plan ${planHash}`;
  const was = meta.shard ? `shard ${meta.shard.index}/${meta.shard.count}` : 'the whole plan';
  const now = shard ? `shard ${shard.index}/${shard.count}` : 'the whole plan';
  return was === now ? undefined : `measured ${was}, but this run is ${now}`;
}

/** results/<network>-<UTC time>.hdr (…-sK-of-N-… for a shard), with -2, -3... when runs start within the same second. */
export function freshResultsPath(dir: string, network: string, when: Date, shard?: ShardSpec): string {
  const stem = path.join(dir, `${network}${shard ? `-s${shard.index}-of-${shard.count}` : ''}-${when.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}`);
  let file = `${stem}.hdr`;
  for (let n = 2; existsSync(file); n++) file = `${stem}-${n}.hdr`;
  return file;
}

export type Session = Awaited<ReturnType<typeof openSession>>;

/** The run's metadata, the results file's first line. */
export function runMetadata(
  o: Pick<EdgeRunOptions, 'host' | 'port' | 'commandLine' | 'reps' | 'warmup' | 'scenario' | 'inFlight' | 'edges' | 'race'>,
  n: Network,
  b: Session['backend'],
  s: Session['server'],
  setup: RunConditions,
  schedule: ScheduleMeta | undefined,
  threads: number | null,
  plan?: { plan: PlanRecord; shard?: ShardRecord },
  wire: { inputs?: InputsMeta; codecs?: CodecsMeta; fidelity?: FidelityRecord[] } = {},
): RunMetadata {
  const me = hostInfo();
  return {
    format: RESULTS_FORMAT,
    tool: 'dnn-partition-bench',
    tool_version: TOOL_VERSION,
    protocol_version: PROTOCOL_VERSION,
    network: n.id,
    fingerprint: n.fingerprint,
    seed: n.seed,
    params: n.params,
    input_shape: n.inputShape,
    cuts: n.cuts.map((c) => ({ index: c.index, layer: c.layer, shape: c.shape, bytes: c.bytes })),
    edge: { host: me.host, backend: b.name, versions: b.versions, cpu: me.cpu, cores: me.cores, mem_bytes: me.mem, node: process.versions.node, threads: b.threads ?? threads },
    cloud: { host: `${s.host} (${o.host}:${o.port})`, backend: s.backend, versions: s.versions, ...(s.versions.threads ? { threads: Number(s.versions.threads) } : {}), cpu: s.cpu, cores: s.cores, mem_bytes: s.mem, node: s.versions.node },
    command_line: o.commandLine,
    started: new Date().toISOString(),
    reps: o.reps,
    warmup: o.warmup,
    ...(pipelinedLabel(o.scenario) ? { scenario: pipelinedLabel(o.scenario), in_flight: o.inFlight ?? DEFAULT_IN_FLIGHT } : {}),
    ...(o.edges && o.edges.count > 1 ? { edges: o.edges.count } : {}),
    ...(o.race ? { race: raceMeta(o.race, o.reps) } : {}),
    ...(plan ? { plan: plan.plan, ...(plan.shard ? { shard: plan.shard } : {}) } : {}),
    conditions: setup,
    schedule,
    ...(wire.inputs ? { inputs: wire.inputs } : {}),
    ...(wire.codecs ? { codecs: wire.codecs } : {}),
    ...(wire.fidelity ? { fidelity: wire.fidelity } : {}),
  };
}
