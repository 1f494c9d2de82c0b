import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Constant-time token check. Both sides are hashed first so the comparison takes the same time
 * whatever the lengths (timingSafeEqual itself needs equal lengths).
 */
export function tokenMatches(expected: string | undefined, presented: string | undefined): boolean {
  if (expected === undefined || expected === '') return true;
  const a = createHash('sha256').update(expected).digest();
  const b = createHash('sha256').update(presented ?? '').digest();
  return timingSafeEqual(a, b) && presented !== undefined;
}

/** True for addresses only this machine can reach. */
export function isLoopback(address: string): boolean {
  return /^127\./.test(address) || address === '::1' || address === 'localhost' || address === '::ffff:127.0.0.1';
}

/**
 * The warning dnn-cloud prints at start when it listens beyond loopback without a token: anyone
 * who reaches the port can run inference and start stressors on this machine. undefined = no warning.
 */
export function openPortWarning(address: string, port: number, token: string | undefined): string | undefined {
  if (token || isLoopback(address)) return undefined;
  return `warning: listening on ${address}:${port} without --token: anyone who reaches this port can start CPU and memory stressors here; set --token (or DNN_TOKEN) on both ends, or --host 127.0.0.1`;
}
