import { makeProgram, parseArgv, backendOption, threadsOption, seedOption } from './common.js';
import { inputShapeOption } from './network-options.js';
import type { BackendChoice } from '../engine/backend.js';
import { assertNetworkSpec } from '../model/network.js';
import { ZOO_NAMES } from '../../models/index.js';

/** What dnn-cut's arguments ask for, checked. */
export interface CutOptions {
  network: string;
  json: boolean;
  /** run every split against the full model on the seeded input */
  verify: boolean;
  backend: BackendChoice;
  /** onnx: intra-op threads (default: the CPUs this process may use) */
  threads?: number;
  seed: number;
  inputShape?: number[];
}

/** dnn-cut's arguments (process.argv.slice(2)) -> checked options. Mistakes are UserErrors, --help a HelpRequested. */
export function parseCutOptions(argv: readonly string[]): CutOptions {
  const program = makeProgram('dnn-cut', 'List the partition points of a network: where it can be split between edge and cloud.')
    .argument('<network>', `zoo name (${ZOO_NAMES.join(', ')}) or path to a TF.js model.json / Keras model.to_json() / .onnx file`)
    .option('--json', 'print one JSON object instead of the table')
    .option('--verify', 'run the full model and the split model at every point on the seeded input and show how far each split output is from the full one (max_abs_diff)')
    .addOption(backendOption())
    .addOption(threadsOption())
    .addOption(seedOption())
    .addOption(inputShapeOption());
  parseArgv(program, argv);
  const network = program.args[0]!;
  const o = program.opts<{ json?: boolean; verify?: boolean; backend: BackendChoice; threads?: number; seed: number; inputShape?: number[] }>();
  assertNetworkSpec(network, o.backend);
  return { network, json: Boolean(o.json), verify: Boolean(o.verify), backend: o.backend, threads: o.threads, seed: o.seed, inputShape: o.inputShape };
}
