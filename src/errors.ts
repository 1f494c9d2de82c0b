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
