import { Option } from 'commander';
import { makeProgram, backendOption, seedOption, maxFrameOption, portOption, tokenOption, parseIntArg } from './common.js';
import { inputShapeOption } from './network-options.js';
import { runMain } from './run-main.js';
import { runEdge, type EdgeRunResult } from '../edge/run-edge.js';
import { GiveUp, LinkFailure } from '../edge/cloud-link.js';
import { planConditions, needsShaping, QUICK_POINTS, QUICK_REPS } from '../edge/plan.js';
import { startLab, type Lab } from '../edge/lab.js';
import { printBestPoints } from '../edge/quick-summary.js';
import { FACTOR, FACTORS, flagHelp, type ConditionKey } from '../conditions/factors.js';
import { DESIGNS, type Design } from '../conditions/grid.js';
import { STRESSOR_CHOICES, StressError, protectFromOom, type StressorChoice } from '../conditions/stress.js';
import { interfaceFor } from '../conditions/tc.js';
import { readTrace, scheduleOf } from '../conditions/trace.js';
import { runAdaptive } from '../edge/adaptive/run-adaptive.js';
import { cleanupLeftovers } from '../conditions/cleanup.js';
import { isRoot } from '../conditions/proc.js';
import type { BackendChoice } from '../engine/backend.js';
import { ZOO_NAMES } from '../../models/index.js';
import { UserError } from '../errors.js';
import { assertNetworkSpec } from '../model/network.js';

interface EdgeOpts {
  port: number;
  backend: BackendChoice;
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
  stressor: StressorChoice;
  quick?: boolean;
  trace?: string;
  traceScale: number;
  traceLoop?: boolean;
  duration?: number;
  policies: string;
  interval?: number;
  profile: string[];
}

/** One level-list flag per condition factor, e.g. --edge-cpu <pct>. */
const LEVEL_OPTIONS = FACTORS.map((f) => ({ key: f.key, option: new Option(`${f.flag} <${f.arg}>`, flagHelp(f)) }));

function parsePositive(v: string, flag: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n <= 0) throw new UserError(`${flag} must be a number above 0, got '${v}'`);
  return n;
}

/** Durations as users type them: 300, 300s, 5m, 1h. */
function parseDuration(value: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value.trim());
  if (!m) throw new UserError(`${flag} must be a duration like 300s, 5m or 1h, got '${value}'`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
  return Number(m[1]) * unit;
}

runMain('dnn-edge', async () => {
  const program = makeProgram(
    'dnn-edge',
    'Measure every partition point of a network split between this machine (edge) and a dnn-cloud, under every combination of network, CPU and memory conditions.',
  )
    .argument('<host>', "address of the machine running dnn-cloud, or 'lab' for a cloud in a private network namespace on this machine")
    .argument('<network>', `zoo name (${ZOO_NAMES.join(', ')}) or path to a model file; must match the cloud's`)
    .addOption(portOption())
    .option('--cuts <list>', "partition points to measure: 'all', or layer names / indices as dnn-cut prints them, comma separated (default: all)")
    .addOption(new Option('--reps <n>', 'recorded samples per point and condition (default: 5, 3 with --quick)').argParser((v: string) => parseIntArg(v, '--reps', 1, 100000)))
    .addOption(new Option('--warmup <n>', 'unrecorded runs before each point').default(1).argParser((v: string) => parseIntArg(v, '--warmup', 0, 1000)))
    .option('--out <dir>', 'directory for the results file', 'results')
    .option('--resume <file>', 'continue an interrupted run in this results file (complete cells are kept, the rest measured)')
    .addOption(new Option('--give-up <duration>', 'end the run when the cloud stays unreachable this long').default(300_000, '5m').argParser((v: string) => parseDuration(v, '--give-up')))
    .addOption(new Option('--timeout <duration>', 'a request unanswered this long is redone').default(120_000, '120s').argParser((v: string) => parseDuration(v, '--timeout')));
  for (const { option } of LEVEL_OPTIONS) program.addOption(option);
  program
    .addOption(new Option('--design <design>', 'how levels combine: every combination, or each factor alone from the first levels').choices([...DESIGNS]).default('factorial'))
    .option('--conditions <file>', 'measure the conditions listed in FILE, one per line, e.g. net=10;ecpu=50 (missing keys: unshaped, no stress)')
    .option('--no-shape', 'do not shape the network: measure the link as it is (no root needed)')
    .option('--iface <name>', 'interface to shape (default: the one routing to <host>)')
    .addOption(new Option('--stressor <kind>', 'what applies CPU/memory stress').choices([...STRESSOR_CHOICES]).default('auto'))
    .option('--trace <file>', 'replay a timeline of conditions (two-column time_s rate_mbit, Mahimahi, or t=0;net=10 lines) and run --policies on it, instead of a grid')
    .addOption(new Option('--trace-scale <x>', 'multiply the trace\'s rates by X').default(1).argParser((v: string) => parsePositive(v, '--trace-scale')))
    .option('--trace-loop', 'repeat the trace until --duration')
    .addOption(new Option('--duration <seconds>', 'replay only the first S seconds (with --trace-loop: this long)').argParser((v: string) => parsePositive(v, '--duration')))
    .option('--policies <list>', 'with --trace: static:<cut>, static:auto (cloud-only, edge-only, best at the baseline, best at the mean rate), adaptive, oracle', 'adaptive,oracle,static:auto')
    .addOption(new Option('--interval <ms>', 'with --trace: one request every MS ms instead of back to back').argParser((v: string) => parsePositive(v, '--interval')))
    .option('--profile <file>', 'with --trace: fit the cost model on these results (repeatable; default: a short profile sweep first)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--quick', `a first look in minutes: --net 50,10 --edge-cpu 0,100, no other stress, ${QUICK_REPS} reps, at most ${QUICK_POINTS} points; prints the best point per condition`)
    .addOption(backendOption())
    .addOption(seedOption())
    .addOption(maxFrameOption())
    .addOption(tokenOption())
    .addOption(inputShapeOption());
  await program.parseAsync();
  const [hostArg, network] = program.args as [string, string];
  const opts = program.opts<EdgeOpts>();
  const log = (line: string) => process.stderr.write(`${line}\n`);

  assertNetworkSpec(network);
  const levels: Partial<Record<ConditionKey, string>> = {};
  for (const { key, option } of LEVEL_OPTIONS) {
    const v: unknown = program.getOptionValue(option.attributeName());
    if (typeof v === 'string') levels[key] = v;
  }
  if (!opts.trace) {
    for (const f of ['traceLoop', 'duration', 'interval'] as const) if (opts[f] !== undefined) throw new UserError(`--${f.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} needs --trace FILE`);
    if (opts.profile.length) throw new UserError('--profile needs --trace FILE');
  }
  const schedule = opts.trace ? scheduleOf(readTrace(opts.trace), { scale: opts.traceScale, loop: Boolean(opts.traceLoop), durationMs: opts.duration === undefined ? undefined : opts.duration * 1000 }) : null;
  if (schedule && !opts.shape) throw new UserError('--trace replays its rates with tc: it cannot be combined with --no-shape');
  const conditions = schedule ? schedule.steps.map((s) => s.condition) : planConditions({ levels, design: opts.design, conditionsFile: opts.conditions, shape: opts.shape, quick: Boolean(opts.quick) });
  const shaping = opts.shape && needsShaping(conditions);
  const isLab = hostArg === 'lab';
  if (isLab && !isRoot()) throw new UserError("the lab (host 'lab') creates a network namespace and needs root: run with sudo");
  if (shaping && !isRoot()) throw new UserError(`shaping the network (tc) needs root: run with sudo, or pass --no-shape to measure the network as it is (${FACTOR.net.flag} levels are then ignored)`);

  // what a run killed with -9 left behind goes first (our qdiscs, namespaces, stressors)
  // (a killed lab cloud's own stressors are listed in its state file: a second pass finds them)
  for (let pass = 0; pass < 3; pass++) {
    const removed = cleanupLeftovers();
    for (const line of removed) log(`removed what a killed run left: ${line}`);
    if (!removed.some((l) => /process group/.test(l))) break;
    await new Promise((r) => setTimeout(r, 300));
  }
  if (!protectFromOom()) log("note: cannot lower this process's OOM score here; memory stressors still volunteer to be killed first");

  let lab: Lab | null = null;
  const interrupted = (signal: string) => log(`dnn-edge: ${signal}: stopping; every completed cell is saved${lab ? ', the lab is removed' : ''} (continue with --resume)`);
  process.once('SIGINT', () => interrupted('SIGINT'));
  process.once('SIGTERM', () => interrupted('SIGTERM'));

  let result: EdgeRunResult;
  try {
    let host = hostArg;
    let port = opts.port;
    if (isLab) {
      const cloudArgs = [network, '--backend', opts.backend, '--seed', String(opts.seed), '--stressor', opts.stressor, ...(opts.inputShape ? ['--input-shape', opts.inputShape.join('x')] : [])];
      lab = await startLab(cloudArgs, log);
      host = lab.host;
      port = lab.port;
    }
    const iface = !shaping ? null : lab ? lab.iface : (opts.iface ?? (await interfaceFor(host)));
    if (iface === 'lo' && !opts.iface) {
      throw new UserError(`${host} is reached over the loopback interface: shaping it would slow both directions and every local connection; use 'dnn-edge lab ${network}' on one machine, or --no-shape`);
    }
    if (iface) log(`shaping egress of ${iface} towards ${host}`);
    if (schedule) {
      if (!iface) throw new UserError('--trace needs a shaped interface towards the cloud');
      const { file } = await runAdaptive({
        host, port, network, backend: opts.backend, seed: opts.seed, inputShape: opts.inputShape, cuts: opts.cuts ?? 'all',
        giveUpMs: opts.giveUp, timeoutMs: opts.timeout, maxFrame: opts.maxFrame, token: opts.token, log,
        schedule,
        replay: { file: opts.trace!, scale: opts.traceScale, loop: Boolean(opts.traceLoop), duration_ms: schedule.lengthMs },
        policies: opts.policies, intervalMs: opts.interval, profile: opts.profile, iface, stressor: opts.stressor, out: opts.out,
        setup: { lab: isLab, shaped: true, design: `trace ${opts.trace}` },
        commandLine: ['dnn-edge', ...process.argv.slice(2)],
      });
      log(`report: ./bin/dnn-report ${file}`);
      return 0;
    }
    result = await runEdge({
      host,
      port,
      network,
      backend: opts.backend,
      seed: opts.seed,
      inputShape: opts.inputShape,
      cuts: opts.cuts ?? 'all',
      reps: opts.reps ?? (opts.quick ? QUICK_REPS : 5),
      warmup: opts.warmup,
      out: opts.out,
      resume: opts.resume,
      giveUpMs: opts.giveUp,
      timeoutMs: opts.timeout,
      maxFrame: opts.maxFrame,
      token: opts.token,
      conditions,
      iface,
      stressor: opts.stressor,
      maxPoints: opts.quick ? QUICK_POINTS : undefined,
      setup: { lab: isLab, shaped: Boolean(iface), design: opts.conditions ? `file ${opts.conditions}` : opts.design, quick: Boolean(opts.quick) },
      commandLine: ['dnn-edge', ...process.argv.slice(2)],
      log,
    });
  } catch (e) {
    if (e instanceof GiveUp || e instanceof LinkFailure || e instanceof StressError) {
      log(`dnn-edge: ${e.message}; every cell measured so far is saved (continue with --resume)`);
      if (lab) log(lab.cloudLog().trim().split('\n').slice(-5).map((l) => `cloud: ${l}`).join('\n'));
      return 1;
    }
    throw e;
  } finally {
    await lab?.close();
  }
  const { stats, file } = result;
  log(`${stats.cells} cells, ${stats.samples} samples, ${stats.retries} samples redone after failures -> ${file}`);
  if (opts.quick) printBestPoints(file);
  log(`full report: ./bin/dnn-report ${file}`);
});
