import { Command, CommanderError, Option } from 'commander';
import { BACKEND_CHOICES, parseThreads } from '../engine/backend.js';
import { UserError } from '../errors.js';

export const DEFAULT_SEED = 1;

/**
 * A commander program with the project's conventions: usage errors exit 2 with one line,
 * --help and --version exit 0.
 */
export function makeProgram(name: string, description: string): Command {
  const program = new Command(name);
  program
    .description(description)
    .showHelpAfterError(`(run ${name} --help for usage)`)
    .configureOutput({ outputError: (str, write) => write(str) })
    .exitOverride((err: CommanderError) => {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.exitCode === 0) {
        process.exit(0);
      }
      process.exit(2);
    });
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

/** Byte sizes as users type them: 268435456, 256MiB, 256M, 64k. */
export function parseBytesArg(value: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmg]i?b?|b)?$/i.exec(value.trim());
  if (!m) throw new UserError(`${flag} must be a size like 268435456, 256MiB or 64k, got '${value}'`);
  const unit = (m[2] ?? '').toLowerCase().replace(/i?b$/, '').replace(/^b$/, '');
  const mult = unit === 'k' ? 1024 : unit === 'm' ? 1024 ** 2 : unit === 'g' ? 1024 ** 3 : 1;
  const n = Math.floor(Number(m[1]) * mult);
  if (n < 1024 || n > 0xffffffff) throw new UserError(`${flag} must be between 1KiB and 4GiB, got '${value}'`);
  return n;
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
