import { makeProgram, parseArgv, backendOption, seedOption } from './common.js';
import { inputShapeOption } from './network-options.js';
import type { BackendChoice } from '../engine/backend.js';
import { assertNetworkSpec } from '../model/network.js';
import { ZOO_NAMES } from '../../models/index.js';

/** What dnn-cut's arguments ask for, checked. */
export interface CutOptions {
  network: string;
  json: boolean;
  backend: BackendChoice;
  seed: number;
  inputShape?: number[];
}

/** dnn-cut's arguments (process.argv.slice(2)) -> checked options. Mistakes are UserErrors, --help a HelpRequested. */
export function parseCutOptions(argv: readonly string[]): CutOptions {
  const program = makeProgram('dnn-cut', 'List the partition points of a network: where it can be split between edge and cloud.')
    .argument('<network>', `zoo name (${ZOO_NAMES.join(', ')}) or path to a TF.js model.json / Keras model.to_json() file`)
    .option('--json', 'print one JSON object instead of the table')
    .addOption(backendOption())
    .addOption(seedOption())
    .addOption(inputShapeOption());
  parseArgv(program, argv);
  const network = program.args[0]!;
  assertNetworkSpec(network);
  const o = program.opts<{ json?: boolean; backend: BackendChoice; seed: number; inputShape?: number[] }>();
  return { network, json: Boolean(o.json), backend: o.backend, seed: o.seed, inputShape: o.inputShape };
}
