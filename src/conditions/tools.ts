import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors.js';

/**
 * The external commands a run starts, and the Debian package each comes in. A run checks the ones
 * it will use before it changes anything: found missing halfway (execa's ENOENT), a lab would be
 * half built and the error a stack trace.
 */
export const COMMAND_PACKAGE = {
  ip: 'iproute2',
  tc: 'iproute2',
  unshare: 'util-linux',
  setpriv: 'util-linux',
  chrt: 'util-linux',
  taskset: 'util-linux',
  stdbuf: 'coreutils',
  'stress-ng': 'stress-ng',
} as const;

export type ExternalCommand = keyof typeof COMMAND_PACKAGE;

/** Commands, and what the run needs them for (said in the error). */
export interface CommandNeed {
  commands: ExternalCommand[];
  for: string;
}

/** Whether an executable file of this name is in one of PATH's folders (as execa would find it). */
export function onPath(command: string, pathVar: string = process.env.PATH ?? ''): boolean {
  return pathVar
    .split(path.delimiter)
    .filter((dir) => dir !== '')
    .some((dir) => {
      const file = path.join(dir, command);
      try {
        accessSync(file, constants.X_OK);
        return statSync(file).isFile();
      } catch {
        return false;
      }
    });
}

const unique = <T>(xs: T[]): T[] => [...new Set(xs)];

function listed(xs: string[]): string {
  return xs.length === 1 ? xs[0]! : `${xs.slice(0, -1).join(', ')} and ${xs[xs.length - 1]!}`;
}

/** The one-line error for these missing commands, or undefined when none is missing. */
export function missingCommandsError(needs: CommandNeed[], pathVar?: string): UserError | undefined {
  const missing = needs.map((n) => ({ ...n, commands: n.commands.filter((c) => !onPath(c, pathVar)) })).filter((n) => n.commands.length > 0);
  if (missing.length === 0) return undefined;
  const commands = unique(missing.flatMap((n) => n.commands));
  const packages = unique(commands.map((c) => COMMAND_PACKAGE[c]));
  return new UserError(
    `${listed(commands)} ${commands.length > 1 ? 'are' : 'is'} not installed (not on the PATH), needed for ${listed(unique(missing.map((n) => n.for)))}; ` +
      `install the Debian package${packages.length > 1 ? 's' : ''} ${listed(packages)}: apt-get install ${packages.join(' ')}`,
  );
}

/** Throws the one-line error naming every missing command and its Debian package. */
export function requireCommands(needs: CommandNeed[]): void {
  const e = missingCommandsError(needs);
  if (e) throw e;
}
