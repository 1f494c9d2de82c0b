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
