import { Command, CommanderError, Option } from 'commander';
import { BACKEND_CHOICES } from '../engine/backend.js';
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
  return new Option('--backend <name>', 'inference backend').choices([...BACKEND_CHOICES]).default('auto');
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
