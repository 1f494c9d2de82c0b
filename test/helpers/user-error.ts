import type { Test } from 'tap';
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

/** The message of the one-line UserError fn throws or rejects with; asserts there is one. */
export async function oneLineUserError(t: Test, fn: () => unknown): Promise<string> {
  const e = await userErrorOf(fn);
  t.ok(e, 'a UserError');
  t.notMatch(e?.message ?? '', /\n/, 'one line');
  return e?.message ?? '';
}
