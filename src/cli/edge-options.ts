import { DEFAULT_MIN_REPS, DEFAULT_RACE_PRIOR } from '../edge/race/race.js';
import { Option, type Command } from 'commander';
import { makeProgram, maxAgreementLossOption, parseArgv, portOption, parseIntArg } from './common.js';
import { DEFAULT_MAX_AGREEMENT_LOSS } from '../analysis/encodings.js';
import { endOptions } from './network-options.js';
import type { EdgeRunOptions } from '../edge/run-edge.js';
import { planConditions, needsShaping, QUICK_POINTS, QUICK_REPS } from '../edge/run-selection.js';
import { FACTORS, flagHelp, type ConditionKey } from '../conditions/factors.js';
import { conditionKey, isStressed } from '../conditions/condition.js';
import { DESIGNS, type Design } from '../conditions/grid.js';
import { STRESSOR_CHOICES } from '../conditions/stress.js';
import { ZOO_NAMES } from '../../models/index.js';
import { UserError } from '../errors.js';
import { resolveShard } from '../edge/shard.js';
import { DEFAULT_REFERENCE_EVERY, ORDERS, type Order } from '../edge/schedule.js';
import { assertNetworkSpec } from '../model/network.js';
import type { DeviceLimits } from '../conditions/cgroup.js';
import { hasLimits } from '../conditions/device.js';
import { deviceLimitsFrom, deviceOptions } from './device-options.js';
import { namesDeviceLink, readTrace, replayedLinks, scheduleOf, traceOnLink, type Schedule, type TraceLink } from '../conditions/trace.js';
import { DEFAULT_POLICIES, POLICY_NAMES } from '../edge/adaptive/policy.js';
import { CODECS, parseCodecList, type Codec } from '../codecs/index.js';
import { parseInputCodecList, type InputCodec, type PreprocessMode } from '../inputs/index.js';
import { inputCodecOption, inputsOption, preprocessOption } from './input-options.js';
import { MAX_EDGES } from '../edge/lab-edges/devices.js';
import { DEFAULT_IN_FLIGHT, MAX_IN_FLIGHT, SINGLE, checkInFlight, isPipelined, parseScenario, scenarioLabel as scenarioText, type Scenario } from '../edge/stream/scenario.js';

/**
 * What dnn-edge's arguments ask for, checked: runEdge's options minus what this machine decides
 * later (the lab's address, the interface that routes to the cloud).
 */
export interface EdgeOptions extends Omit<EdgeRunOptions, 'iface' | 'setup' | 'log' | 'edge' | 'edges' | 'cellBarrier' | 'labEdge'> {
  /** host 'lab': a cloud in a private network namespace on this machine */
  lab: boolean;
  /** some condition shapes the network and --no-shape is not set: tc (and root) is needed */
  shaping: boolean;
  /** --iface: the interface to shape (default: the one routing to the host) */
  iface?: string;
  quick: boolean;
  /** how the conditions were chosen, for the metadata: a design, or the conditions file */
  design: string;
  /** --dry-run: print the plan and its shards' estimated times; `dryRunShards` shards when no index is given */
  dryRun: boolean;
  dryRunShards?: number;
  /** --edge-* and --cloud-* limits as given (the lab fills in its default CPU sets) */
  limits: { edge: DeviceLimits; cloud: DeviceLimits };
  /** --trace: the adaptive run (policies over a replayed trace) instead of a grid */
  trace?: TraceOptions;
  /** lab --edges N: edge devices against the lab's one cloud (1 = the lab as it always was) */
  edges: number;
  /** --tiers 3: device (this process), edge tier (dnn-relay), cloud; undefined: two tiers */
  tiers?: TierOptions;
  /** lab: the cloud's --queue and --concurrency (its defaults when not given) */
  cloudQueue?: number;
  cloudConcurrency?: number;
}

/** --tiers 3 and its companions, checked. */
export interface TierOptions {
  /** --device-slowdown: the device calibrated this many times slower than the cloud (lab) */
  deviceSlowdown?: number;
  /** --max-configs: sample this many configurations per condition (the pure ones always kept) */
  maxConfigs?: number;
  /** --configs: exactly these configurations 'x|y' (checked against the network's points when it is loaded) */
  configs?: string[];
}

export interface TraceOptions {
  file: string;
  schedule: Schedule;
  scale: number;
  loop: boolean;
  policies: string;
  intervalMs?: number;
  profile: string[];
  /** --max-agreement-loss: the policies choose only among arms within this fidelity budget (percentage points) */
  maxAgreementLoss: number;
  /** --scenario stream:FPS: a camera's frames instead of requests one at a time */
  camera?: { fps: number; inFlight: number };
  /** --policy-slot: the policies interleaved in slots of this much trace time (ms); null: sequential (off, and always with a camera) */
  slotMs: number | null;
  /** --tiers 3: which link a one-rate trace (two-column, Mahimahi) shapes (--trace-link; default edge); absent with two tiers and for tag traces */
  link?: TraceLink;
}

function parsePositive(v: string, flag: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n <= 0) throw new UserError(`${flag} must be a number above 0, got '${v}'`);
  return n;
}

/**
 * --quick in the lab: an edge of a weaker class than its cloud, 10x slower (a small ARM board next
 * to a server core is 5-10x slower). On the default onnx backend mobilenet then shows the trade-off
 * between the two rates: cloud-only at 50 Mbit/s, edge-only at 10 (measured: +186 %, significant).
 * At 4x the edge-only point won at both rates. On wasm, whose compute is 8-20x slower than a native
 * runtime, the crossover sits elsewhere: there 4x moves the point and 10x keeps it in the cloud.
 */
export const QUICK_SLOWDOWN = 10;

/** --quick without --codec/--input-codec: the float32 baseline and a camera's JPEG at the input, f32/f16/int8 inside. */
export const QUICK_INPUT_CODECS = 'raw-f32,jpeg:90';
export const QUICK_CODECS = 'f32,f16,int8';

function parseSlowdown(v: string, flag = '--edge-slowdown'): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < 1 || n > 1000) throw new UserError(`${flag} must be a factor from 1 (off) to 1000, like 5 or 10, got '${v}'`);
  return n;
}

/** --configs x|y,...: configuration labels, each two point names joined by '|'. */
function parseConfigList(v: string): string[] {
  const items = v.split(',').map((s) => s.trim());
  for (const item of items) {
    const parts = item.split('|');
    if (parts.length !== 2 || parts.some((p) => p.trim() === '')) throw new UserError(`--configs: '${item}' is not x|y (two partition points joined by |, e.g. --configs 'conv1|pool2,input_1|conv1'; quote it for the shell)`);
  }
  return items;
}

/**
 * --tiers 3 and its flags: the device link, the device's slowdown and the configurations need three
 * tiers; three tiers measure single f32 requests of one edge, without trace or race (not yet).
 */
function tierOptions(f: EdgeFlags, given: Partial<Record<ConditionKey, string>>, o: { lab: boolean; scenario: Scenario }): TierOptions | undefined {
  if (f.tiers !== 3) {
    const needs: [unknown, string][] = [[given.dnet, '--device-net'], [f.deviceSlowdown, '--device-slowdown'], [f.maxConfigs, '--max-configs'], [f.configs, '--configs']];
    for (const [v, flag] of needs) if (v !== undefined) throw new UserError(`${flag} needs --tiers 3 (a device, an edge tier and a cloud)`);
    return undefined;
  }
  const notYet = (what: string) => new UserError(`--tiers 3 cannot be combined with ${what} yet: drop it (three-tier runs measure single float32 requests of one device)`);
  if (f.codec?.some((c) => c.name !== 'f32') || f.inputCodec?.some((c) => c.name !== 'f32')) throw notYet('--codec/--input-codec other than f32');
  if (isPipelined(o.scenario)) throw notYet(`--scenario ${scenarioText(o.scenario)}`);
  if (f.race) throw notYet('--race');
  if (f.edges !== undefined && f.edges !== 1) throw notYet(`--edges ${f.edges}`);
  if (f.quick) throw notYet('--quick');
  if (f.shard !== undefined || f.shards !== undefined) throw notYet('--shard/--shards');
  for (const [key, flag] of [['ecpu', '--edge-cpu'], ['emem', '--edge-mem'], ['ccpu', '--cloud-cpu'], ['cmem', '--cloud-mem']] as const) {
    const v = given[key];
    if (v !== undefined && v.split(',').some((x) => Number(x.trim()) !== 0)) throw notYet(`${flag} other than 0`);
  }
  if (f.configs && f.maxConfigs !== undefined) throw new UserError('--configs lists the configurations itself: drop --max-configs (or --configs)');
  if (f.deviceSlowdown !== undefined && !o.lab) throw new UserError("--device-slowdown calibrates the lab's device: use 'dnn-edge lab <network> --tiers 3 ...'");
  return {
    ...(f.deviceSlowdown !== undefined && f.deviceSlowdown !== 1 ? { deviceSlowdown: f.deviceSlowdown } : {}),
    ...(f.maxConfigs !== undefined ? { maxConfigs: f.maxConfigs } : {}),
    ...(f.configs ? { configs: f.configs } : {}),
  };
}


function parseRacePrior(v: string): number | 'off' {
  // 'off', not null: commander takes a null from a parser as no value
  if (v.trim() === 'off') return 'off';
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n <= 1) throw new UserError(`--race-prior must be a factor above 1 (e.g. 3: points predicted above 3x the best start with 1 sample) or 'off', got '${v}'`);
  return n;
}

/** --race and its companions, checked; undefined without --race (whose companions are then refused). */
function raceOptions(f: EdgeFlags, reps: number, scenario: Scenario, edges: number): EdgeRunOptions['race'] {
  if (!f.race) {
    if (f.minReps !== undefined) throw new UserError('--min-reps needs --race (without racing every point gets --reps samples)');
    if (f.racePrior !== undefined) throw new UserError('--race-prior needs --race');
    return undefined;
  }
  if (isPipelined(scenario)) throw new UserError(`--race races single requests: it cannot be combined with --scenario ${scenarioText(scenario)} (drop one of them)`);
  if (reps < 2) throw new UserError(`--race needs --reps 2 or more to race (got --reps ${reps})`);
  if (edges > 1) throw new UserError(`--race cannot be combined with --edges ${edges}: every edge would race on its own samples and drop other points`);
  const minReps = f.minReps ?? Math.min(DEFAULT_MIN_REPS, reps);
  if (minReps > reps) throw new UserError(`--min-reps ${minReps} is more than --reps ${reps}: give --min-reps 1..${reps}`);
  return { minReps, prior: f.racePrior === undefined ? DEFAULT_RACE_PRIOR : f.racePrior === 'off' ? null : f.racePrior };
}

/** One level-list flag per condition factor, e.g. --edge-cpu <pct>. */
function levelOptions(): { key: ConditionKey; option: Option }[] {
  return FACTORS.map((f) => ({ key: f.key, option: new Option(`${f.flag} <${f.arg}>`, flagHelp(f)) }));
}

/** Durations as users type them: 300, 300s, 5m, 1h. */
export function parseDuration(value: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value.trim());
  if (!m) throw new UserError(`${flag} must be a duration like 300s, 5m or 1h, got '${value}'`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
  return Number(m[1]) * unit;
}

function edgeProgram(levels: { option: Option }[]): Command {
  const program = makeProgram(
    'dnn-edge',
    'Measure every partition point of a network split between this machine (edge) and a dnn-cloud, under every combination of network, CPU and memory conditions.',
  )
    .argument('<host>', "address of the machine running dnn-cloud, or 'lab' for a cloud in a private network namespace on this machine")
    .argument('<network>', `zoo name (${ZOO_NAMES.join(', ')}) or path to a model file; must match the cloud's`)
    .addOption(portOption())
    .option('--cuts <list>', "partition points to measure: 'all', or layer names / indices as dnn-cut prints them, comma separated (default: all)")
    .addOption(new Option('--reps <n>', `recorded samples per point and condition (default: 5, ${QUICK_REPS} with --quick)`).argParser((v: string) => parseIntArg(v, '--reps', 1, 100000)))
    .addOption(new Option('--warmup <n>', 'unrecorded runs before each point (with --scenario: frames streamed first, not recorded)').default(1).argParser((v: string) => parseIntArg(v, '--warmup', 0, 1000)))
    .addOption(
      new Option(
        '--scenario <s>',
        'the load each cell is measured under: single (one request at a time), stream:FPS (a camera: a frame every 1/FPS s, dropped when it cannot start before the next), server:RATE (Poisson arrivals per second, queued at the edge) or max (frames/s at saturation); with a scenario --reps counts the frames offered per cell',
      )
        .default(SINGLE, 'single')
        .argParser((v: string) => parseScenario(v)),
    )
    .addOption(new Option('--in-flight <k>', `with --scenario stream/server/max: at most K frames in flight (started at the edge, not yet answered), 1-${MAX_IN_FLIGHT}`).default(DEFAULT_IN_FLIGHT).argParser((v: string) => checkInFlight(parseIntArg(v, '--in-flight', 1, MAX_IN_FLIGHT))))
    .option('--out <dir>', 'directory for the results file', 'results')
    .option('--resume <file>', 'continue an interrupted run in this results file (complete cells are kept, the rest measured)')
    .addOption(new Option('--give-up <duration>', 'end the run when the cloud stays unreachable this long').default(300_000, '5m').argParser((v: string) => parseDuration(v, '--give-up')))
    .addOption(new Option('--timeout <duration>', 'a request unanswered this long is redone').default(120_000, '120s').argParser((v: string) => parseDuration(v, '--timeout')));
  for (const { option } of levels) program.addOption(option);
  program
    .addOption(new Option('--design <design>', 'how levels combine: every combination, or each factor alone from the first levels').choices([...DESIGNS]).default('factorial'))
    .option('--conditions <file>', 'measure the conditions listed in FILE, one per line, e.g. net=10;ecpu=50 (missing keys: unshaped, no stress)')
    .option('--no-shape', 'do not shape the network: measure the link as it is (no root needed)')
    .option('--iface <name>', 'interface to shape (default: the one routing to <host>)')
    .addOption(new Option('--stressor <kind>', 'what applies CPU/memory stress').choices([...STRESSOR_CHOICES]).default('auto'))
    .addOption(new Option('--order <order>', 'conditions within one network rate: shuffled (seeded, recorded) or as listed; points are always interleaved rep by rep').choices([...ORDERS]).default('randomized'))
    .addOption(new Option('--order-seed <n>', 'seed of the shuffles (default: a fresh one, recorded in the results metadata)').argParser((v: string) => parseIntArg(v, '--order-seed', 0, 0x7fffffff)))
    .addOption(
      new Option('--reference-every <k>', 'measure the reference cell (the baseline\'s best point) again every K conditions, to show drift; 0 = never')
        .default(DEFAULT_REFERENCE_EVERY)
        .argParser((v: string) => parseIntArg(v, '--reference-every', 0, 100000)),
    )
    .option('--trace <file>', 'replay a timeline of conditions (two-column time_s rate_mbit, Mahimahi, or t=0;net=10 lines) and run --policies on it, instead of a grid')
    .addOption(new Option('--trace-scale <x>', "multiply the trace's rates by X").default(1).argParser((v: string) => parsePositive(v, '--trace-scale')))
    .addOption(new Option('--trace-link <link>', "with --tiers 3: the link a two-column or Mahimahi trace shapes: edge (edge tier -> cloud, as --net) or device (device -> edge tier, as --device-net); a tag trace names each link itself (net=, dnet=) (default: edge)").choices(['edge', 'device']))
    .option('--trace-loop', 'repeat the trace until --duration')
    .addOption(new Option('--duration <seconds>', 'replay only the first S seconds (with --trace-loop: this long)').argParser((v: string) => parsePositive(v, '--duration')))
    .option('--policies <list>', 'with --trace: adaptive (the cost model corrected online from every request, exploring within 5 % of the time), model (the cost model alone), oracle (the model fed the condition in force), static:<cut> or static:<cut>@<codec> (one arm), static:auto (cloud-only, edge-only, best at the baseline, best at the mean rate), static:all (one static per arm; the hindsight best needs them); with --codec/--input-codec they choose (point, codec) arms; with --tiers 3: static:x|y (a configuration), static:auto (device-, edge- and cloud-only), static:all (the default there) and oracle (with --profile: a three-tier sweep)', DEFAULT_POLICIES)
    .option('--policy-slot <s|off>', `with --trace: interleave the policies: in each slot of S s of trace time every policy replays it in turn (order shuffled per slot, seeded by --order-seed), each keeping its state, so load that drifts hits all alike; off: each policy replays the whole trace in turn (the only mode with --scenario stream:FPS) (default: ${DEFAULT_POLICY_SLOT_S})`)
    .addOption(new Option('--interval <ms>', 'with --trace: one request every MS ms instead of back to back').argParser((v: string) => parsePositive(v, '--interval')))
    .option('--profile <file>', 'with --trace: fit the cost model on these results (repeatable; default: a short profile sweep first); --codec/--input-codec select which of their arms the policies use; with --tiers 3: the three-tier sweep the oracle is fitted on', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .addOption(maxAgreementLossOption())
    .option('--quick', `a first look in minutes: --net 50,10 --edge-cpu 0,100, no other stress, ${QUICK_REPS} reps, at most ${QUICK_POINTS} points, the shipped photos with ${QUICK_INPUT_CODECS} at the input and ${QUICK_CODECS} inside (unless --codec/--input-codec); prints the best (point, codec) per condition and the float32 answer`)
    .option('--shard <K/N>', 'measure only shard K of N of the plan (cells split by estimated time); default: from SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX when set')
    .addOption(new Option('--shards <n>', 'number of shards, with the index from the batch system (SLURM_ARRAY_TASK_ID, JOB_COMPLETION_INDEX)').argParser((v: string) => parseIntArg(v, '--shards', 1, 100000)))
    .addOption(new Option('--tiers <n>', "2: edge and cloud (the default); 3: this machine is the device, <host> runs dnn-relay (the edge tier) which forwards to a dnn-cloud: every configuration (x, y) of two points x <= y is measured (device up to x, edge tier up to y, cloud the rest); 'lab' starts all three").default(2).argParser((v: string) => parseIntArg(v, '--tiers', 2, 3)))
    .addOption(new Option('--device-slowdown <x>', 'with --tiers 3 in the lab: emulate a weaker device: calibrate its CPU time so that the full model takes X times as long on it as on the cloud (--edge-slowdown does the same for the edge tier)').argParser((v: string) => parseSlowdown(v, '--device-slowdown')))
    .addOption(new Option('--max-configs <n>', 'with --tiers 3: measure this many configurations per condition, sampled uniformly (seeded by the schedule seed) from every x <= y pair of the --cuts points; device-only, edge-only and cloud-only are always kept').argParser((v: string) => parseIntArg(v, '--max-configs', 3, 1_000_000)))
    .addOption(new Option('--configs <list>', "with --tiers 3: measure exactly these configurations, e.g. 'conv1|pool2,input_1|conv1' (x|y, x no later than y; quote the | for the shell)").argParser(parseConfigList))
    .addOption(new Option('--edges <n>', `lab: this many edge devices (each its own cgroup, namespace and shaped veth) against the one cloud, every cell started on all at once (1-${MAX_EDGES})`).argParser((v: string) => parseIntArg(v, '--edges', 1, MAX_EDGES)))
    .addOption(new Option('--cloud-queue <n>', "lab: the lab's dnn-cloud --queue (requests that may wait, all edges together)").argParser((v: string) => parseIntArg(v, '--cloud-queue', 1, 100_000)))
    .addOption(new Option('--cloud-concurrency <k>', "lab: the lab's dnn-cloud --concurrency (inferences computed at once)").argParser((v: string) => parseIntArg(v, '--cloud-concurrency', 1, 64)))
    .option('--race', 'race the points of each condition: after --min-reps samples, points significantly slower than the best (the report\'s tie-set test), or further above it than the run\'s measured noise allows (the gap rule), are sampled no more; survivors get all --reps (single requests only)')
    .addOption(new Option('--min-reps <n>', `with --race: samples every point gets before it may leave the race, 1..--reps (default: ${DEFAULT_MIN_REPS})`).argParser((v: string) => parseIntArg(v, '--min-reps', 1, 100000)))
    .addOption(
      new Option('--race-prior <x>', `with --race: points the cost model of the conditions already measured predicts above X times the best start with 1 sample, and leave if it agrees (no model yet: the first condition's warm-ups, above max(X, 2); no model but a measured link: the first cycle); 'off': no prior (default: ${DEFAULT_RACE_PRIOR})`).argParser(parseRacePrior),
    )
    .option('--dry-run', 'print the plan, its shards and their estimated times (with and without --race), then exit (measures nothing, changes nothing)')
    .addOption(inputsOption())
    .addOption(preprocessOption())
    .addOption(inputCodecOption(`--quick: ${QUICK_INPUT_CODECS}`))
    .addOption(
      new Option('--codec <list>', `how the tensor crosses at every inner point, comma-separated: ${[...CODECS.keys()].join(', ')}; each point is measured with each (default: f32, raw float32; --quick: ${QUICK_CODECS})`).argParser(
        (v: string) => parseCodecList(v),
      ),
    );
  for (const option of endOptions()) program.addOption(option);
  program
    .addOption(
      new Option('--edge-slowdown <x>', `emulate a weaker edge: calibrate its CPU time so that the full model takes X times as long on the edge as on the cloud (lab --quick: ${QUICK_SLOWDOWN}; 1 = off)`).argParser((v: string) => parseSlowdown(v)),
    );
  for (const option of [...deviceOptions('edge'), ...deviceOptions('cloud')]) program.addOption(option);
  return program;
}

/** The flags as commander gives them (level lists are read per factor). */
interface EdgeFlags {
  port: number;
  backend: EdgeRunOptions['backend'];
  threads?: number;
  seed: number;
  inputShape?: number[];
  cuts?: string;
  reps?: number;
  warmup: number;
  out: string;
  resume?: string;
  giveUp: number;
  timeout: number;
  maxFrame: number;
  token?: string;
  design: Design;
  conditions?: string;
  shape: boolean;
  iface?: string;
  stressor: EdgeRunOptions['stressor'];
  quick?: boolean;
  shard?: string;
  shards?: number;
  dryRun?: boolean;
  edgeSlowdown?: number;
  order: Order;
  orderSeed?: number;
  referenceEvery: number;
  trace?: string;
  traceScale: number;
  traceLoop?: boolean;
  traceLink?: TraceLink;
  duration?: number;
  policies: string;
  interval?: number;
  policySlot?: string;
  profile: string[];
  maxAgreementLoss?: number;
  inputs?: string[];
  preprocess?: PreprocessMode;
  inputCodec?: InputCodec[];
  codec?: Codec[];
  edges?: number;
  cloudQueue?: number;
  cloudConcurrency?: number;
  scenario: Scenario;
  inFlight: number;
  race?: boolean;
  minReps?: number;
  racePrior?: number | 'off';
  tiers: number;
  deviceSlowdown?: number;
  maxConfigs?: number;
  configs?: string[];
}

/** --trace and its companions, checked; undefined without --trace (whose companions are then refused). `policiesGiven`: --policies was on the command line. */
function traceOptions(f: EdgeFlags, encoded: boolean, policiesGiven: boolean): TraceOptions | undefined {
  if (!f.trace) {
    if (f.maxAgreementLoss !== undefined) throw new UserError('--max-agreement-loss needs --trace FILE: a sweep measures every (point, codec) arm, and dnn-report applies the budget to them (dnn-report --max-agreement-loss)');
    for (const [v, flag] of [[f.traceLoop, '--trace-loop'], [f.traceLink, '--trace-link'], [f.duration, '--duration'], [f.interval, '--interval'], [f.policySlot, '--policy-slot'], [f.profile.length || undefined, '--profile']] as const) {
      if (v !== undefined) throw new UserError(`${flag} needs --trace FILE`);
    }
    return undefined;
  }
  // a budget over f32 arms alone judges nothing: most likely the codecs were forgotten
  if (f.maxAgreementLoss !== undefined && !encoded) throw new UserError('--max-agreement-loss judges encoded arms: give --codec and/or --input-codec with a codec other than f32 (e.g. --codec f32,int8)');
  if (!f.shape) throw new UserError('--trace replays its rates with tc: it cannot be combined with --no-shape');
  // a replay is not a grid of cells to complete: it was silently ignored before
  if (f.resume !== undefined) throw new UserError('--trace replays the trace into a fresh results file: drop --resume (a stopped replay keeps the request lines of every finished turn, and dnn-report reads them)');
  const tiers = f.tiers === 3 ? tierTrace(f, policiesGiven) : undefined;
  const parsed = readTrace(f.trace);
  if (!tiers && namesDeviceLink(parsed)) throw new UserError(`${f.trace}: the trace sets dnet= (the device link of three tiers): replay it with --tiers 3 in the lab, or drop dnet=`);
  if (f.traceLink !== undefined && parsed.format === 'tags') throw new UserError(`--trace-link is for one-rate traces (two-column, Mahimahi); ${f.trace} is a tag trace and names each link itself (net= edge->cloud, dnet= device->edge): drop --trace-link`);
  const link = tiers && parsed.format !== 'tags' ? (f.traceLink ?? 'edge') : undefined;
  const schedule = scheduleOf(link ? traceOnLink(parsed, link) : parsed, { scale: f.traceScale, loop: Boolean(f.traceLoop), durationMs: f.duration === undefined ? undefined : f.duration * 1000 });
  if (tiers) {
    const stressed = schedule.steps.find((s) => isStressed(s.condition));
    if (stressed) throw new UserError(`${f.trace}: the step at ${stressed.atMs / 1000} s stresses an end (${conditionKey(stressed.condition)}); --tiers 3 --trace replays the two links only, not stress yet: drop ecpu/emem/ccpu/cmem from the trace`);
    replayedLinks(schedule);
  }
  return {
    ...(link ? { link } : {}),
    file: f.trace,
    schedule,
    scale: f.traceScale,
    loop: Boolean(f.traceLoop),
    policies: f.policies,
    intervalMs: f.interval,
    profile: f.profile,
    maxAgreementLoss: f.maxAgreementLoss ?? DEFAULT_MAX_AGREEMENT_LOSS,
    slotMs: policySlotMs(f.policySlot),
    ...tiers,
  };
}

/**
 * --trace with --tiers 3: static configurations and the oracle (the additive model of a three-tier
 * sweep given with --profile, fed the condition in force); the learning policies have no
 * three-tier model yet. The policies default to static:all.
 */
function tierTrace(f: EdgeFlags, policiesGiven: boolean): Pick<TraceOptions, 'policies'> {
  const policies = policiesGiven ? f.policies : 'static:all';
  const names = policies.split(',').map((p) => p.trim());
  const learning = names.find((p) => p !== 'oracle' && (POLICY_NAMES as readonly string[]).includes(p));
  if (learning) throw new UserError(`--tiers 3 --trace replays static configurations and the oracle only: --policies static:x|y,...,static:auto, static:all (the default), oracle; ${learning} needs a learning three-tier cost model, not built yet`);
  const oracle = names.includes('oracle');
  if (oracle && !f.profile.length) throw new UserError('--tiers 3 --trace: the oracle predicts each configuration from a three-tier sweep of this network: give it with --profile FILE (dnn-edge lab <network> --tiers 3 --device-net ... --net ...)');
  if (!oracle && f.profile.length) throw new UserError('--profile fits the oracle of --tiers 3 --trace: add oracle to --policies, or drop --profile');
  if (f.interval !== undefined) throw new UserError('--tiers 3 --trace sends requests back to back: drop --interval');
  return { policies };
}

/** Seconds of trace time per slot of the interleaved replay when --policy-slot is not given: the report's hindsight window, so each window is one slot of every policy. */
export const DEFAULT_POLICY_SLOT_S = 5;

/** --policy-slot S|off -> ms, or null (off: the sequential replay). */
function policySlotMs(v: string | undefined): number | null {
  if (v === undefined) return DEFAULT_POLICY_SLOT_S * 1000;
  if (v.trim() === 'off') return null;
  const s = Number(v);
  if (v.trim() === '' || !Number.isFinite(s) || s <= 0) throw new UserError(`--policy-slot must be seconds of trace time above 0 (e.g. 5) or off, got '${v}'`);
  return s * 1000;
}

/** --edges N: several edge devices need the lab, and one plan measured whole by each, from its start. */
function labEdges(f: EdgeFlags, lab: boolean, trace: boolean, shard: boolean): number {
  const n = f.edges ?? 1;
  if (f.edges === undefined) return n;
  if (!lab) throw new UserError(`--edges ${n} starts edge devices in the local lab: use 'dnn-edge lab <network> --edges ${n}' (edges on other machines each run dnn-edge against the one dnn-cloud)`);
  if (n === 1) return n;
  for (const [given, flag] of [[trace, '--trace'], [shard, '--shard'], [f.resume !== undefined, '--resume']] as const) {
    if (given) throw new UserError(`--edges ${n} measures one whole plan on every edge at once: it cannot be combined with ${flag}`);
  }
  return n;
}

/**
 * dnn-edge's arguments (process.argv.slice(2)) -> checked options, with the defaults filled in.
 * Every mistake is a UserError, raised before anything on the machine is changed; --help is a
 * HelpRequested. Side effects: none, except reading a --conditions file (and DNN_TOKEN, as --token).
 * `env` gives the batch system's shard index (SLURM_ARRAY_TASK_ID, JOB_COMPLETION_INDEX).
 */
export function parseEdgeOptions(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): EdgeOptions {
  const levelFlags = levelOptions();
  const program = parseArgv(edgeProgram(levelFlags), argv);
  const [host, network] = program.args as [string, string];
  const f = program.opts<EdgeFlags>();

  assertNetworkSpec(network, f.backend);
  const levels: Partial<Record<ConditionKey, string>> = {};
  for (const { key, option } of levelFlags) {
    const v: unknown = program.getOptionValue(option.attributeName());
    if (typeof v === 'string') levels[key] = v;
  }
  const quick = Boolean(f.quick);
  const random = f.inputs?.includes('random') ?? false;
  // the quick look measures what a camera deployment sends (a JPEG at the input, f16/int8 inside)
  // beside the float32 baseline, so its closing lines can say what float32 alone would answer
  const quickWire = quick && !f.trace && f.codec === undefined && f.inputCodec === undefined;
  const codecs = f.codec ?? parseCodecList(quickWire ? QUICK_CODECS : 'f32');
  const inputCodecs = f.inputCodec ?? parseInputCodecList(quickWire && !random ? QUICK_INPUT_CODECS : 'raw-f32');
  // before the trace is read: the flags conflict whatever the file holds
  if (f.race && f.trace) throw new UserError('--race races the points of a sweep: it cannot be combined with --trace (an adaptive run)');
  if (f.traceLink !== undefined && f.tiers !== 3) throw new UserError('--trace-link picks one of the two links of three tiers: it needs --tiers 3 (two tiers replay a trace on the edge->cloud link)');
  const trace = traceOptions(f, codecs.some((c) => c.name !== 'f32') || inputCodecs.some((c) => c.name !== 'f32'), program.getOptionValueSource('policies') === 'cli');
  const scenario = f.scenario;
  if (trace && isPipelined(scenario)) {
    if (scenario.kind !== 'stream') throw new UserError(`--trace replays a trace under a camera: --scenario stream:FPS (e.g. stream:15), not ${scenarioText(scenario)}`);
    if (trace.intervalMs !== undefined) throw new UserError('--interval sets a request rate, --scenario stream:FPS a camera\'s frame rate: give one of them');
    // a camera's frames are in flight across any boundary: its policies replay the whole trace each, in turn
    if (f.policySlot !== undefined && f.policySlot.trim() !== 'off') throw new UserError(`--policy-slot ${f.policySlot} interleaves single requests; a camera (--scenario stream:FPS) replays each policy whole: drop --policy-slot (or give --policy-slot off)`);
    trace.camera = { fps: scenario.fps, inFlight: f.inFlight };
    trace.slotMs = null;
  }
  if (isPipelined(scenario) && f.quick) throw new UserError('--quick is a first look at single requests: drop --scenario (or --quick)');
  if (!isPipelined(scenario) && program.getOptionValueSource('inFlight') === 'cli') throw new UserError('--in-flight caps frames in flight: it needs --scenario stream:FPS, server:RATE or max');
  const tiers = tierOptions(f, levels, { lab: host === 'lab', scenario });
  const conditions = trace ? trace.schedule.steps.map((s) => s.condition) : planConditions({ levels, design: f.design, conditionsFile: f.conditions, shape: f.shape, quick, tiers: tiers !== undefined });
  if (tiers && host !== 'lab' && f.shape && needsShaping(conditions)) {
    throw new UserError("--tiers 3 shapes its two links only in the lab ('dnn-edge lab <network> --tiers 3'); with a relay on another machine give --no-shape (the links as they are)");
  }
  // --dry-run --shards N without an index shows all N shards; otherwise the shard comes as for a run
  const indexFromEnv = Boolean(env.SLURM_ARRAY_TASK_ID || env.JOB_COMPLETION_INDEX);
  const dryRunShards = f.dryRun && f.shard === undefined && !indexFromEnv ? f.shards : undefined;
  const shard = dryRunShards ? undefined : resolveShard(f.shard, f.shards, env);
  if (shard && f.quick) throw new UserError('--quick is a first look on one machine: drop it to shard a study (or drop --shard)');
  if (shard && trace) throw new UserError('--trace replays one timeline on one edge-cloud pair: drop --shard (or --trace)');
  const image = inputCodecs.find((c) => c.name !== 'f32');
  if (random && image) throw new UserError(`--input-codec ${image.label} encodes camera frames: it needs image inputs (--inputs PATH..., or none for the shipped photographs), not --inputs random`);
  if (random && f.preprocess) throw new UserError('--preprocess turns camera frames into model inputs: --inputs random has none; drop one of them');
  const lab = host === 'lab';
  const limits = { edge: deviceLimitsFrom(f, 'edge'), cloud: deviceLimitsFrom(f, 'cloud') };
  if (!lab && hasLimits(limits.cloud)) throw new UserError("--cloud-cpuset/--cloud-cpus/--cloud-memory limit the lab's cloud; a cloud on another machine takes them itself: pass them to its dnn-cloud");
  if (tiers && hasLimits(limits.edge)) throw new UserError('--tiers 3 cannot be combined with --edge-cpuset/--edge-cpus/--edge-memory yet: give the tiers their speed with --device-slowdown and --edge-slowdown');
  const edges = labEdges(f, lab, trace !== undefined, shard !== undefined);
  if (!lab && (f.cloudQueue !== undefined || f.cloudConcurrency !== undefined)) throw new UserError("--cloud-queue/--cloud-concurrency set the lab's cloud; a cloud on another machine takes them itself: pass --queue/--concurrency to its dnn-cloud");
  const reps = f.reps ?? (quick ? QUICK_REPS : 5);
  const race = raceOptions(f, reps, scenario, edges);
  const wanted = f.edgeSlowdown ?? (lab && quick ? QUICK_SLOWDOWN : undefined);
  const slowdown = wanted === 1 ? undefined : wanted;
  if (slowdown !== undefined && limits.edge.cpus !== undefined) throw new UserError("--edge-slowdown sets the edge's CPU time itself: drop --edge-cpus (or --edge-slowdown)");
  return {
    host,
    port: f.port,
    network,
    lab,
    backend: f.backend,
    threads: f.threads,
    seed: f.seed,
    inputShape: f.inputShape,
    cuts: f.cuts ?? 'all',
    reps,
    ...(race ? { race } : {}),
    warmup: f.warmup,
    out: f.out,
    resume: f.resume,
    giveUpMs: f.giveUp,
    timeoutMs: f.timeout,
    maxFrame: f.maxFrame,
    token: f.token,
    conditions,
    shaping: f.shape && needsShaping(conditions),
    iface: f.iface,
    stressor: f.stressor,
    maxPoints: quick ? QUICK_POINTS : undefined,
    order: f.order,
    orderSeed: f.orderSeed,
    referenceEvery: f.referenceEvery,
    quick,
    design: trace ? `trace ${trace.file}` : f.conditions ? `file ${f.conditions}` : f.design,
    shard,
    dryRun: Boolean(f.dryRun),
    dryRunShards,
    limits,
    slowdown,
    edges,
    ...(tiers ? { tiers } : {}),
    ...(f.cloudQueue !== undefined ? { cloudQueue: f.cloudQueue } : {}),
    ...(f.cloudConcurrency !== undefined ? { cloudConcurrency: f.cloudConcurrency } : {}),
    commandLine: ['dnn-edge', ...argv],
    ...(trace ? { trace } : {}),
    codecs,
    inputCodecs,
    ...(quickWire ? { optionalImageCodecs: true } : {}),
    ...(f.inputs ? { inputs: f.inputs } : {}),
    ...(f.preprocess ? { preprocess: f.preprocess } : {}),
    scenario,
    inFlight: f.inFlight,
  };
}
