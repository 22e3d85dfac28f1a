// Constant-time comparison for secrets, MACs, token hashes and digests.
import { timingSafeEqual } from 'node:crypto';
import { sha256 } from './hash.ts';

/**
 * Compare two byte strings in time independent of their content. Inputs of different length are
 * hashed first so the comparison itself stays constant-time and length is not revealed early.
 */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) {
    timingSafeEqual(sha256(a), sha256(b));
    return false;
  }
  return timingSafeEqual(a, b);
}
