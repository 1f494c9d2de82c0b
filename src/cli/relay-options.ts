import { Option } from 'commander';
import { makeProgram, parseArgv, parseIntArg } from './common.js';
import { endOptions } from './network-options.js';
import { parseDuration } from './edge-options.js';
import { parseParent } from './cloud-options.js';
import type { BackendChoice } from '../engine/backend.js';
import { assertNetworkSpec } from '../model/network.js';
import { ZOO_NAMES } from '../../models/index.js';
import { UserError } from '../errors.js';

/** What dnn-relay's arguments ask for, checked. */
export interface RelayCliOptions {
  /** the dnn-cloud this relay forwards to */
  nextHost: string;
  nextPort: number;
  network: string;
  port: number;
  listen: string;
  backend: BackendChoice;
  threads?: number;
  seed: number;
  maxFrame: number;
  token?: string;
  inputShape?: number[];
  giveUpMs: number;
  timeoutMs: number;
  /** the lab's device (pid and start time): the relay ends itself when that process is gone */
  parent?: { pid: number; start: number };
}

/** A host name or address, without a port (that is --next-port). */
function checkHost(host: string): string {
  if (host.trim() === '' || /\s/.test(host)) throw new UserError(`<next-host> must be a host name or address, got '${host}'`);
  if (/^[^:]+:\d+$/.test(host)) throw new UserError(`<next-host> '${host}' carries a port: give the host alone and the port with --next-port ${host.split(':')[1]}`);
  return host;
}

/**
 * dnn-relay's arguments (process.argv.slice(2)) -> checked options, defaults filled in. Mistakes are
 * UserErrors, --help a HelpRequested; nothing else happens (DNN_TOKEN is read, as --token).
 */
export function parseRelayOptions(argv: readonly string[]): RelayCliOptions {
  const program = makeProgram(
    'dnn-relay',
    'The middle tier of three: serve dnn-edge --tiers 3 devices, run the layers between their two cuts, and forward the rest to a dnn-cloud.',
  )
    .argument('<next-host>', 'host of the dnn-cloud this relay forwards to')
    .argument('<network>', `zoo name (${ZOO_NAMES.join(', ')}) or path to a model file; the same network, --seed and --input-shape as the cloud and the device`)
    .addOption(new Option('--port <n>', 'TCP port devices connect to (0 = any free port, printed at start)').default(5000).argParser((v: string) => parseIntArg(v, '--port', 0, 65535)))
    .option('--listen <addr>', 'address to listen on for devices', '0.0.0.0')
    .addOption(new Option('--next-port <n>', "the dnn-cloud's TCP port").default(5000).argParser((v: string) => parseIntArg(v, '--next-port', 1, 65535)));
  for (const option of endOptions()) program.addOption(option);
  program
    .addOption(new Option('--give-up <duration>', 'the cloud unreachable this long (at start, or when reconnecting) is an error').default(60_000, '60s').argParser((v: string) => parseDuration(v, '--give-up')))
    .addOption(new Option('--timeout <duration>', 'a request to the cloud unanswered this long fails (the device redoes it)').default(120_000, '120s').argParser((v: string) => parseDuration(v, '--timeout')))
    // the lab's device passes itself: the relay ends itself when that process is gone
    .addOption(new Option('--parent-pid <pid:starttime>').hideHelp().argParser(parseParent));
  parseArgv(program, argv);
  const [nextHost, network] = program.args as [string, string];
  const f = program.opts<{
    port: number; listen: string; nextPort: number; backend: BackendChoice; threads?: number; seed: number; maxFrame: number;
    token?: string; inputShape?: number[]; giveUp: number; timeout: number; parentPid?: RelayCliOptions['parent'];
  }>();
  assertNetworkSpec(network, f.backend);
  if (f.giveUp <= 0 || f.timeout <= 0) throw new UserError(`--give-up and --timeout must be positive durations, got ${f.giveUp} ms and ${f.timeout} ms`);
  return {
    nextHost: checkHost(nextHost),
    nextPort: f.nextPort,
    network,
    port: f.port,
    listen: f.listen,
    backend: f.backend,
    ...(f.threads !== undefined ? { threads: f.threads } : {}),
    seed: f.seed,
    maxFrame: f.maxFrame,
    ...(f.token !== undefined ? { token: f.token } : {}),
    ...(f.inputShape !== undefined ? { inputShape: f.inputShape } : {}),
    giveUpMs: f.giveUp,
    timeoutMs: f.timeout,
    ...(f.parentPid !== undefined ? { parent: f.parentPid } : {}),
  };
}
