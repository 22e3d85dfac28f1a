// Per-identity rate limits: a fixed window per credential fingerprint (bearer token or session
// cookie, hashed; never stored) or, without credentials, per client address. In-process state:
// each API process limits on its own.
import { sha256Hex } from '../../crypto/index.ts';
import { CustosError } from '../../errors/index.ts';

export interface RateLimits {
  readonly windowMs: number;
  /** Requests per window for one credential. */
  readonly perIdentity: number;
  /** Requests per window from one address without credentials (sign-in, SSO, health). */
  readonly perAnonymous: number;
}

export const DEFAULT_RATE_LIMITS: RateLimits = { windowMs: 60_000, perIdentity: 1200, perAnonymous: 120 };

interface Bucket {
  start: number;
  count: number;
}

export class RateLimiter {
  readonly #limits: RateLimits;
  readonly #buckets = new Map<string, Bucket>();
  readonly #clock: () => number;

  constructor(limits: RateLimits, clock: () => number = Date.now) {
    this.#limits = limits;
    this.#clock = clock;
  }

  /** Count one request. Throws API_RATE_LIMITED with the seconds to wait when over the limit. */
  hit(credential: string | undefined, address: string): void {
    const now = this.#clock();
    const key = credential === undefined ? `ip:${address}` : `id:${sha256Hex(credential).slice(0, 32)}`;
    const max = credential === undefined ? this.#limits.perAnonymous : this.#limits.perIdentity;
    let b = this.#buckets.get(key);
    if (b === undefined || b.start + this.#limits.windowMs <= now) {
      if (this.#buckets.size > 100_000) this.#sweep(now);
      b = { start: now, count: 0 };
      this.#buckets.set(key, b);
    }
    b.count++;
    if (b.count > max) {
      const retryAfter = Math.max(1, Math.ceil((b.start + this.#limits.windowMs - now) / 1000));
      throw new CustosError('API_RATE_LIMITED', `Too many requests; retry after ${retryAfter}s`, {
        details: {
          field: credential === undefined ? 'address' : 'authorization',
          rule: `at most ${max} requests per ${this.#limits.windowMs / 1000}s`,
          retryAfter,
        },
      });
    }
  }

  #sweep(now: number): void {
    for (const [k, b] of this.#buckets) if (b.start + this.#limits.windowMs <= now) this.#buckets.delete(k);
  }
}
