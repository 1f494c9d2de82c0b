import { Command, CommanderError, Option } from 'commander';
import { BACKEND_CHOICES, parseThreads } from '../engine/backend-choices.js';
import { UserError } from '../errors.js';
import { DEFAULT_MAX_AGREEMENT_LOSS } from '../analysis/encodings.js';

export const DEFAULT_SEED = 1;

/** A commander program with the project's description conventions; parse it with parseArgv. */
export function makeProgram(name: string, description: string): Command {
  return new Command(name).description(description);
}

/** The user asked for --help: the wiring prints `text` to standard output and exits 0. */
export class HelpRequested {
  constructor(readonly text: string) {}
}

/**
 * Parses the user's arguments (process.argv.slice(2)) without side effects: nothing is printed and
 * nothing exits. A usage mistake becomes a one-line UserError (exit 2), --help a HelpRequested (exit 0).
 */
export function parseArgv(program: Command, argv: readonly string[]): Command {
  let out = '';
  const capture = (text: string) => {
    out += text;
  };
  program.exitOverride().configureOutput({ writeOut: capture, writeErr: capture, outputError: () => undefined });
  try {
    program.parse([...argv], { from: 'user' });
  } catch (e) {
    if (!(e instanceof CommanderError)) throw e;
    if (e.exitCode === 0) throw new HelpRequested(out);
    throw new UserError(`${e.message.replace(/^error: /, '')} (run ${program.name()} --help for usage)`);
  }
  return program;
}

export function backendOption(): Option {
  return new Option('--backend <name>', 'inference backend (auto: the fastest that loads: onnx, tensorflow, wasm, cpu)').choices([...BACKEND_CHOICES]).default('auto');
}

export function threadsOption(): Option {
  return new Option('--threads <n>', 'onnx backend: intra-op threads (default: the CPUs this process may use)').argParser(parseThreads);
}

export function seedOption(): Option {
  return new Option('--seed <n>', 'seed of the generated (untrained) weights; both ends must use the same')
    .default(DEFAULT_SEED)
    .argParser((v: string) => parseIntArg(v, '--seed', 0));
}

/** Parses an integer flag value, or throws a UserError naming the flag. */
export function parseIntArg(value: string, flag: string, min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER): number {
  if (!/^-?\d+$/.test(value.trim())) throw new UserError(`${flag} must be an integer, got '${value}'`);
  const n = Number(value);
  if (n < min || n > max) throw new UserError(`${flag} must be between ${min} and ${max}, got ${n}`);
  return n;
}

/** Byte sizes as users type them: 268435456, 256MiB, 256M, 64k, 2G (binary units). */
export function parseBytesArg(value: string, flag: string, min = 1024, max = 0xffffffff): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]i?b?|b)?$/i.exec(value.trim());
  if (!m) throw new UserError(`${flag} must be a size like 268435456, 256MiB or 64k, got '${value}'`);
  const unit = (m[2] ?? '').toLowerCase().replace(/i?b$/, '').replace(/^b$/, '');
  const mult = { k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }[unit] ?? 1;
  const n = Math.floor(Number(m[1]) * mult);
  if (n < min || n > max) throw new UserError(`${flag} must be between ${formatSize(min)} and ${formatSize(max)}, got '${value}'`);
  return n;
}

function formatSize(n: number): string {
  for (const [unit, size] of [['TiB', 1024 ** 4], ['GiB', 1024 ** 3], ['MiB', 1024 ** 2], ['KiB', 1024]] as const) {
    if (n >= size) return `${+(n / size).toFixed(1)}${unit}`;
  }
  return `${n}B`;
}

export function maxFrameOption(): Option {
  return new Option('--max-frame <bytes>', 'largest frame accepted from the peer (refused before allocating)')
    .default(256 * 1024 * 1024, '256MiB')
    .argParser((v: string) => parseBytesArg(v, '--max-frame'));
}

export function portOption(): Option {
  return new Option('--port <n>', 'TCP port of dnn-cloud (0 on the cloud = any free port, printed at start)').default(5000).argParser((v: string) => parseIntArg(v, '--port', 0, 65535));
}

export function tokenOption(): Option {
  return new Option('--token <secret>', 'shared secret both ends must present (or set DNN_TOKEN)').env('DNN_TOKEN');
}

function parseMaxAgreementLoss(v: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < 0 || n > 100) throw new UserError(`--max-agreement-loss must be a number of percentage points between 0 and 100 (1 = one point of top-1 agreement), got '${v}'`);
  return n;
}

/** --max-agreement-loss: the fidelity budget, the same for dnn-report (the answer) and dnn-edge --trace (the policies' choice). */
export function maxAgreementLossOption(): Option {
  return new Option(
    '--max-agreement-loss <points>',
    `encoded crossings: a (point, codec) pair may be chosen only when it loses at most this many percentage points of top-1 agreement with the f32 model (its recorded fidelity; lossless codecs lose 0; default ${DEFAULT_MAX_AGREEMENT_LOSS})`,
  ).argParser(parseMaxAgreementLoss);
}
