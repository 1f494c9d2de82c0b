import { Option } from 'commander';
import { makeProgram, backendOption, seedOption, maxFrameOption, portOption, tokenOption, parseIntArg } from './common.js';
import { inputShapeOption } from './network-options.js';
import { runMain } from './run-main.js';
import { runEdge } from '../edge/run-edge.js';
import { GiveUp, LinkFailure } from '../edge/cloud-link.js';
import { NO_CONDITION } from '../conditions/condition.js';
import type { BackendChoice } from '../engine/backend.js';
import { ZOO_NAMES } from '../../models/index.js';
import { UserError } from '../errors.js';

interface EdgeOpts {
  port: number;
  backend: BackendChoice;
  seed: number;
  inputShape?: number[];
  cuts: string;
  reps: number;
  warmup: number;
  out: string;
  resume?: string;
  giveUp: number;
  timeout: number;
  maxFrame: number;
  token?: string;
}

/** Durations as users type them: 300, 300s, 5m, 1h. */
function parseDuration(value: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value.trim());
  if (!m) throw new UserError(`${flag} must be a duration like 300s, 5m or 1h, got '${value}'`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
  return Number(m[1]) * unit;
}

runMain('dnn-edge', async () => {
  const program = makeProgram('dnn-edge', 'Measure every partition point of a network split between this machine (edge) and a dnn-cloud.')
    .argument('<host>', 'address of the machine running dnn-cloud')
    .argument('<network>', `zoo name (${ZOO_NAMES.join(', ')}) or path to a model file; must match the cloud's`)
    .addOption(portOption())
    .option('--cuts <list>', "partition points to measure: 'all', or layer names / indices as dnn-cut prints them, comma separated", 'all')
    .addOption(new Option('--reps <n>', 'recorded samples per point and condition').default(5).argParser((v: string) => parseIntArg(v, '--reps', 1, 100000)))
    .addOption(new Option('--warmup <n>', 'unrecorded runs before each point').default(1).argParser((v: string) => parseIntArg(v, '--warmup', 0, 1000)))
    .option('--out <dir>', 'directory for the results file', 'results')
    .option('--resume <file>', 'continue an interrupted run in this results file (complete cells are kept)')
    .addOption(new Option('--give-up <duration>', 'end the run when the cloud stays unreachable this long').default(300_000, '5m').argParser((v: string) => parseDuration(v, '--give-up')))
    .addOption(new Option('--timeout <duration>', 'a request unanswered this long is redone').default(120_000, '120s').argParser((v: string) => parseDuration(v, '--timeout')))
    .addOption(backendOption())
    .addOption(seedOption())
    .addOption(maxFrameOption())
    .addOption(tokenOption())
    .addOption(inputShapeOption());
  await program.parseAsync();
  const [host, network] = program.args as [string, string];
  const opts = program.opts<EdgeOpts>();
  const log = (line: string) => process.stderr.write(`${line}\n`);

  try {
    const r = await runEdge({
      host,
      network,
      ...opts,
      giveUpMs: opts.giveUp,
      timeoutMs: opts.timeout,
      conditions: [NO_CONDITION],
      controller: () => ({ apply: async () => {}, release: async () => {} }),
      conditionsMeta: { shaping: 'none', stress: 'none' },
      commandLine: ['dnn-edge', ...process.argv.slice(2)],
      log,
    });
    log(`${r.stats.cells} cells, ${r.stats.samples} samples, ${r.stats.retries} samples redone after failures -> ${r.file}`);
    log(`report: dnn-report ${r.file}`);
  } catch (e) {
    if (e instanceof GiveUp || e instanceof LinkFailure) {
      log(`dnn-edge: ${e.message}; every cell measured so far is saved (continue with --resume)`);
      return 1;
    }
    throw e;
  }
});
