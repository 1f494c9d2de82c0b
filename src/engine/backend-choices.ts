import { UserError } from '../errors.js';

/**
 * The backend names and the --threads check, apart from backend.ts so that commands which never
 * infer (dnn-report: its option parser shares common.ts) do not load TF.js just to print --help:
 * that import alone took seconds of a report's start.
 */
export const BACKEND_CHOICES = ['auto', 'onnx', 'tensorflow', 'wasm', 'cpu'] as const;
export type BackendChoice = (typeof BACKEND_CHOICES)[number];

/** --threads: intra-op threads of the onnx backend. */
export function parseThreads(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n < 1 || n > 1024) throw new UserError(`--threads must be a whole number from 1 to 1024, got '${value}'`);
  return n;
}
