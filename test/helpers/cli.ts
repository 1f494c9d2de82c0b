import { execa, type Result } from 'execa';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

/** Repository root (tests run from dist/test/..., compiled). */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const FIXTURES = path.join(ROOT, 'test/fixtures');

/** Runs one of the project's bin/ commands for real; never throws on a non-zero exit. */
export function runBin(command: string, args: string[], opts: { timeout?: number; env?: Record<string, string> } = {}): Promise<Result> {
  // tap's loaders (NODE_OPTIONS) are for the test process, not for the command under test
  const env = { ...opts.env, NODE_OPTIONS: '' };
  return execa(path.join(ROOT, 'bin', command), args, { reject: false, timeout: opts.timeout ?? 120_000, env, stdin: 'ignore' });
}
