/**
 * A mistake the user can fix (bad flag, unknown network, unreadable file...).
 * The CLI prints only `message` (one line, no stack) and exits with code 2.
 * Messages say what is wrong and how to fix it.
 */
export class UserError extends Error {
  readonly exitCode = 2;
  constructor(message: string) {
    super(message);
    this.name = 'UserError';
  }
}

export function isUserError(e: unknown): e is UserError {
  return e instanceof UserError;
}

/** The message of anything thrown, for one-line logs. */
export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** The first line of a message, at most `max` characters: for one-line errors quoting a library. */
export function firstLine(s: string, max = 160): string {
  const line = s.split('\n')[0] ?? s;
  return line.length > max ? `${line.slice(0, max - 3)}...` : line;
}
