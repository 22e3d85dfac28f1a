// Cryptographically secure randomness. A pool amortizes the cost of many small requests
// (nonces, DEKs) on hot paths; every byte is still from the OS CSPRNG and handed out once.
import { randomFillSync } from 'node:crypto';

const POOL_BYTES = 64 * 1024;
let pool = Buffer.allocUnsafe(0);
let offset = 0;

/** `n` fresh random bytes in a new buffer (never shared with another caller). */
export function randomBytes(n: number): Buffer {
  if (n > 4096) return randomFillSync(Buffer.alloc(n));
  if (offset + n > pool.length) {
    pool = randomFillSync(Buffer.allocUnsafe(POOL_BYTES));
    offset = 0;
  }
  const out = Buffer.from(pool.subarray(offset, offset + n));
  pool.fill(0, offset, offset + n);
  offset += n;
  return out;
}
