import { Option } from 'commander';
import { makeProgram, backendOption, seedOption, maxFrameOption, portOption, tokenOption, parseIntArg } from './common.js';
import { inputShapeOption } from './network-options.js';
import { runMain } from './run-main.js';
import { preparePlan, runEdge, type EdgeRunResult } from '../edge/run-edge.js';
import { resolveShard } from '../edge/shard.js';
import { formatDryRun } from '../edge/dry-run.js';
import { selectBackend } from '../engine/backend.js';
import { GiveUp, LinkFailure } from '../edge/cloud-link.js';
import { planConditions, needsShaping, QUICK_POINTS, QUICK_REPS } from '../edge/plan.js';
import { startLab, type Lab } from '../edge/lab.js';
import { printBestPoints } from '../edge/quick-summary.js';
import { CONDITION_KEYS, type ConditionKey } from '../conditions/condition.js';
import { DESIGNS, LEVEL_FLAGS, type Design } from '../conditions/grid.js';
import { STRESSOR_CHOICES, StressError, protectFromOom, type StressorChoice } from '../conditions/stress.js';
import { interfaceFor } from '../conditions/tc.js';
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
  net?: string;
  delay?: string;
  jitter?: string;
  loss?: string;
  edgeCpu?: string;
  edgeMem?: string;
  cloudCpu?: string;
  cloudMem?: string;
  shard?: string;
  shards?: number;
  dryRun?: boolean;
}

const LEVEL_OPTS: Record<ConditionKey, keyof EdgeOpts> = {
  net: 'net',
  delay: 'delay',
  jitter: 'jitter',
  loss: 'loss',
  ecpu: 'edgeCpu',
  emem: 'edgeMem',
  ccpu: 'cloudCpu',
  cmem: 'cloudMem',
};

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
    .addOption(new Option('--timeout <duration>', 'a request unanswered this long is redone').default(120_000, '120s').argParser((v: string) => parseDuration(v, '--timeout')))
    .option('--net <mbits>', 'network rate levels in Mbit/s, or none (default: 50,25,10)')
    .option('--delay <ms>', 'added one-way delay levels in ms (netem; default: 0)')
    .option('--jitter <ms>', 'delay jitter levels in ms (netem; default: 0)')
    .option('--loss <pct>', 'packet loss levels in % (netem; default: 0)')
    .option('--edge-cpu <pct>', 'edge CPU stress levels in % (default: 0,50,100)')
    .option('--edge-mem <pct>', 'edge memory stress levels, % of available memory (default: 0,50,100)')
    .option('--cloud-cpu <pct>', 'cloud CPU stress levels in % (default: 0,50,100)')
    .option('--cloud-mem <pct>', 'cloud memory stress levels, % of available memory (default: 0,50,100)')
    .addOption(new Option('--design <design>', 'how levels combine: every combination, or each factor alone from the first levels').choices([...DESIGNS]).default('factorial'))
    .option('--conditions <file>', 'measure the conditions listed in FILE, one per line, e.g. net=10;ecpu=50 (missing keys: unshaped, no stress)')
    .option('--no-shape', 'do not shape the network: measure the link as it is (no root needed)')
    .option('--iface <name>', 'interface to shape (default: the one routing to <host>)')
    .addOption(new Option('--stressor <kind>', 'what applies CPU/memory stress').choices([...STRESSOR_CHOICES]).default('auto'))
    .option('--quick', `a first look in minutes: --net 50,10 --edge-cpu 0,100, no other stress, ${QUICK_REPS} reps, at most ${QUICK_POINTS} points; prints the best point per condition`)
    .option('--shard <K/N>', 'measure only shard K of N of the plan (cells split by estimated time); default: from SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX when set')
    .addOption(new Option('--shards <n>', 'number of shards, with the index from the batch system (SLURM_ARRAY_TASK_ID, JOB_COMPLETION_INDEX)').argParser((v: string) => parseIntArg(v, '--shards', 1, 100000)))
    .option('--dry-run', 'print the plan, its shards and their estimated times, then exit (measures nothing, changes nothing)')
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
  for (const k of CONDITION_KEYS) {
    const v = opts[LEVEL_OPTS[k]];
    if (typeof v === 'string') levels[k] = v;
  }
  const conditions = planConditions({ levels, design: opts.design, conditionsFile: opts.conditions, shape: opts.shape, quick: Boolean(opts.quick) });
  const shaping = opts.shape && needsShaping(conditions);
  // --dry-run --shards N alone shows all N shards; otherwise the shard comes as for a run
  const envIndex = Boolean(process.env.SLURM_ARRAY_TASK_ID || process.env.JOB_COMPLETION_INDEX);
  const dryCount = opts.dryRun && opts.shard === undefined && !envIndex ? opts.shards : undefined;
  const shard = dryCount ? undefined : resolveShard(opts.shard, opts.shards, process.env);
  const reps = opts.reps ?? (opts.quick ? QUICK_REPS : 5);
  const maxPoints = opts.quick ? QUICK_POINTS : undefined;
  if (opts.dryRun) {
    await selectBackend(opts.backend);
    const prepared = await preparePlan({ network, seed: opts.seed, inputShape: opts.inputShape, cuts: opts.cuts ?? 'all', reps, warmup: opts.warmup, conditions, maxPoints, shard: shard ?? { index: 1, count: dryCount ?? 1 } });
    process.stdout.write(formatDryRun(prepared, shard));
    return 0;
  }
  const isLab = hostArg === 'lab';
  if (isLab && !isRoot()) throw new UserError("the lab (host 'lab') creates a network namespace and needs root: run with sudo");
  if (shaping && !isRoot()) throw new UserError(`shaping the network (tc) needs root: run with sudo, or pass --no-shape to measure the network as it is (${LEVEL_FLAGS.net} levels are then ignored)`);

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
    result = await runEdge({
      host,
      port,
      network,
      backend: opts.backend,
      seed: opts.seed,
      inputShape: opts.inputShape,
      cuts: opts.cuts ?? 'all',
      reps,
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
      maxPoints,
      shard,
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
