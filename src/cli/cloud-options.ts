import { Option } from 'commander';
import { makeProgram, parseArgv, parseIntArg, portOption } from './common.js';
import { DEFAULT_CONCURRENCY, DEFAULT_QUEUE } from '../cloud/server.js';
import { endOptions } from './network-options.js';
import type { BackendChoice } from '../engine/backend.js';
import { assertNetworkSpec } from '../model/network.js';
import { STRESSOR_CHOICES, type StressorChoice } from '../conditions/stress.js';
import { ZOO_NAMES } from '../../models/index.js';
import { UserError } from '../errors.js';
import type { DeviceLimits } from '../conditions/cgroup.js';
import { deviceLimitsFrom, deviceOptions } from './device-options.js';

/** What dnn-cloud's arguments ask for, checked. */
export interface CloudOptions {
  network: string;
  port: number;
  host: string;
  backend: BackendChoice;
  /** onnx: intra-op threads (default: the CPUs this process may use) */
  threads?: number;
  seed: number;
  maxFrame: number;
  token?: string;
  inputShape?: number[];
  stressor: StressorChoice;
  /** complete INFERs that may wait, all edges together (a full queue answers QUEUE_FULL) */
  queue: number;
  /** inferences computed at once */
  concurrency: number;
  /** the lab's edge (pid and start time): the cloud ends itself when that process is gone */
  parent?: { pid: number; start: number };
  /** --cloud-cpuset/--cloud-cpus/--cloud-memory: this cloud as a device of its own (a cgroup) */
  limits: DeviceLimits;
  /** the lab's edge already put this process in a cgroup with `limits` (the cloud only sizes its stress to them) */
  inDevice: boolean;
  /** the lab's edge: the points (its --cuts) whose halves are warmed up at start; default every point */
  warmUp?: string;
}

/** --parent-pid <pid:starttime>, as the lab passes it. */
export function parseParent(value: string): { pid: number; start: number } {
  const m = /^(\d+):(\d+)$/.exec(value.trim());
  if (!m) throw new UserError(`--parent-pid must be <pid>:<start time>, got '${value}'`);
  return { pid: Number(m[1]), start: Number(m[2]) };
}

/**
 * dnn-cloud's arguments (process.argv.slice(2)) -> checked options, defaults filled in. Mistakes are
 * UserErrors, --help a HelpRequested; nothing else happens (DNN_TOKEN is read, as --token).
 */
export function parseCloudOptions(argv: readonly string[]): CloudOptions {
  const program = makeProgram('dnn-cloud', 'Serve the cloud halves of a network to dnn-edge clients (and apply cloud-side stress on their request).')
    .argument('<network>', `zoo name (${ZOO_NAMES.join(', ')}) or path to a model file`)
    .addOption(portOption())
    .option('--host <addr>', 'address to listen on', '0.0.0.0');
  for (const option of endOptions()) program.addOption(option);
  program
    .addOption(new Option('--stressor <kind>', 'what applies CPU/memory stress an edge asks for').choices([...STRESSOR_CHOICES]).default('auto'))
    .addOption(
      new Option('--queue <n>', 'complete requests that may wait, all edges together; one more is answered QUEUE_FULL')
        .default(DEFAULT_QUEUE)
        .argParser((v: string) => parseIntArg(v, '--queue', 1, 100_000)),
    )
    .addOption(
      new Option('--concurrency <k>', 'inferences computed at once (onnx only above 1: the other backends compute on the main thread)')
        .default(DEFAULT_CONCURRENCY)
        .argParser((v: string) => parseIntArg(v, '--concurrency', 1, 64)),
    )
    // the lab's edge passes itself: the cloud ends itself (and its stressors) when that process is gone
    .addOption(new Option('--parent-pid <pid:starttime>').hideHelp().argParser(parseParent))
    // the lab's edge made this cloud's cgroup (a cgroup is not visible from inside the lab's namespace)
    .addOption(new Option('--in-device').hideHelp())
    // the lab's edge passes its --cuts: warming up only the halves it will ask for (of mobilenet's 93,
    // 10-20 s of a lab's start) leaves every other half built on its first request
    .addOption(new Option('--warm-up <cuts>').hideHelp());
  for (const option of deviceOptions('cloud')) program.addOption(option);
  parseArgv(program, argv);
  const network = program.args[0]!;
  const f = program.opts<Omit<CloudOptions, 'network' | 'parent' | 'limits' | 'inDevice'> & { parentPid?: CloudOptions['parent']; inDevice?: boolean }>();
  assertNetworkSpec(network, f.backend);
  if (f.concurrency > 1 && f.backend !== 'onnx' && f.backend !== 'auto') {
    throw new UserError(`--concurrency ${f.concurrency} needs --backend onnx: backend ${f.backend} computes on the main thread, one inference at a time`);
  }
  return {
    network,
    port: f.port,
    host: f.host,
    backend: f.backend,
    ...(f.threads !== undefined ? { threads: f.threads } : {}),
    seed: f.seed,
    maxFrame: f.maxFrame,
    ...(f.token !== undefined ? { token: f.token } : {}),
    ...(f.inputShape !== undefined ? { inputShape: f.inputShape } : {}),
    stressor: f.stressor,
    queue: f.queue,
    concurrency: f.concurrency,
    parent: f.parentPid,
    limits: deviceLimitsFrom(f, 'cloud'),
    inDevice: Boolean(f.inDevice),
    ...(f.warmUp !== undefined ? { warmUp: f.warmUp } : {}),
  };
}
