import { UserError } from '../../src/errors.js';

/** The UserError fn throws or rejects with, or undefined when it succeeds; anything else thrown is rethrown. */
export async function userErrorOf(fn: () => unknown): Promise<UserError | undefined> {
  try {
    await fn();
  } catch (e) {
    if (e instanceof UserError) return e;
    throw e;
  }
  return undefined;
}
