import { Option } from 'commander';
import { makeProgram, parseArgv, parseIntArg, backendOption, threadsOption, seedOption } from './common.js';
import { inputShapeOption } from './network-options.js';
import { inputCodecOption, inputsOption, preprocessOption } from './input-options.js';
import type { BackendChoice } from '../engine/backend.js';
import { assertNetworkSpec } from '../model/network.js';
import { CODECS, parseCodecList, type Codec } from '../codecs/index.js';
import { UserError, isUserError } from '../errors.js';
import { parseInputs, type InputCodec, type InputsSpec, type PreprocessMode } from '../inputs/index.js';
import { ZOO_NAMES } from '../../models/index.js';

/** What --codecs / --input-codec ask dnn-cut to measure (absent: the point list only). */
export interface CutFidelityOptions {
  inner: Codec[];
  /** absent: DEFAULT_INPUT for images, raw-f32 for a network whose input is not one */
  input?: InputCodec[];
  inputs: InputsSpec;
  frames: number;
  preprocess?: PreprocessMode;
  /** the points to measure: 'all' or names/indices as --cuts takes them */
  cuts: string;
}

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
  fidelity?: CutFidelityOptions;
}

/** Inner points without --codecs (when --input-codec asks for fidelity): today's float32. */
const DEFAULT_INNER = 'f32';
/** The input point without --input-codec: what a camera pipeline sends (the baseline). */
export const DEFAULT_INPUT = 'jpeg:90';
export const DEFAULT_FRAMES = 100;

/** The flags that only mean something with --codecs or --input-codec. */
const FIDELITY_ONLY = [
  ['inputs', '--inputs'],
  ['frames', '--frames'],
  ['preprocess', '--preprocess'],
  ['cuts', '--cuts'],
] as const;

/** dnn-cut's arguments (process.argv.slice(2)) -> checked options. Mistakes are UserErrors, --help a HelpRequested. */
export function parseCutOptions(argv: readonly string[]): CutOptions {
  const inputCodec = inputCodecOption();
  inputCodec.description = `with --codecs: what the edge sends at the input (cloud-only) point, comma-separated: raw-f32 (the preprocessed float32 tensor, written f32), u8, jpeg[:Q], png, webp[:Q]; Q 1-100 (default: ${DEFAULT_INPUT})`;
  const program = makeProgram('dnn-cut', 'List the partition points of a network: where it can be split between edge and cloud; with --codecs, how far each (point, codec) pair moves the output.')
    .argument('<network>', `zoo name (${ZOO_NAMES.join(', ')}) or path to a TF.js model.json / Keras model.to_json() / .onnx file`)
    .option('--json', 'print one JSON object instead of the table')
    .option('--verify', 'run the full model and the split model at every point on the seeded input and show how far each split output is from the full one (max_abs_diff)')
    .addOption(
      new Option('--codecs <list>', `measure fidelity: tensor codecs at the inner points, comma-separated (${[...CODECS.keys()].join(', ')}); the input point gets --input-codec (default ${DEFAULT_INPUT})`).argParser(
        parseTensorCodecs,
      ),
    )
    .addOption(inputCodec)
    .addOption(inputsOption())
    .addOption(new Option('--frames <n>', `with --codecs: inputs to measure over: the photographs, then their crops and flips until there are N (default ${DEFAULT_FRAMES})`).argParser((v: string) => parseIntArg(v, '--frames', 1, 100_000)))
    .addOption(preprocessOption())
    .option('--cuts <list>', "with --codecs: the points to measure: 'all', or layer names / indices as dnn-cut prints them, comma separated (default: all)")
    .addOption(backendOption())
    .addOption(threadsOption())
    .addOption(seedOption())
    .addOption(inputShapeOption());
  parseArgv(program, argv);
  const network = program.args[0]!;
  const o = program.opts<{
    json?: boolean;
    verify?: boolean;
    backend: BackendChoice;
    threads?: number;
    seed: number;
    inputShape?: number[];
    codecs?: Codec[];
    inputCodec?: InputCodec[];
    inputs?: string[];
    frames?: number;
    preprocess?: PreprocessMode;
    cuts?: string;
  }>();
  assertNetworkSpec(network, o.backend);
  const measure = o.codecs !== undefined || o.inputCodec !== undefined;
  if (!measure) {
    const stray = FIDELITY_ONLY.find(([key]) => o[key] !== undefined);
    if (stray) throw new UserError(`${stray[1]} applies to fidelity measurement: add --codecs LIST (e.g. --codecs f16,int8) or --input-codec LIST`);
  }
  const fidelity: CutFidelityOptions | undefined = measure
    ? {
        inner: o.codecs ?? parseCodecList(DEFAULT_INNER),
        input: o.inputCodec,
        inputs: parseInputs(o.inputs),
        frames: o.frames ?? DEFAULT_FRAMES,
        preprocess: o.preprocess,
        cuts: o.cuts ?? 'all',
      }
    : undefined;
  return { network, json: Boolean(o.json), verify: Boolean(o.verify), backend: o.backend, threads: o.threads, seed: o.seed, inputShape: o.inputShape, ...(fidelity ? { fidelity } : {}) };
}

/** parseCodecList's message names dnn-edge's --codec; here the flag is --codecs. */
function parseTensorCodecs(spec: string): Codec[] {
  try {
    return parseCodecList(spec);
  } catch (e) {
    if (isUserError(e)) throw new UserError(e.message.replace(/^--codec:/, '--codecs:'));
    throw e;
  }
}
