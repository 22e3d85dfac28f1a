// Per-identity rate limits: a fixed window per credential fingerprint (bearer token or session
// cookie, hashed; never stored in clear) or, without credentials, per client address. Embedded
// (SQLite, one API process) the windows live in memory; on PostgreSQL, where several API processes
// serve one installation, they live in the database, so a caller gets one limit, not one per process.
import { sql, type Kysely } from 'kysely';
import { sha256Hex } from '../../crypto/index.ts';
import { CustosError } from '../../errors/index.ts';
import type { Database } from '../../store/index.ts';

export interface RateLimits {
  readonly windowMs: number;
  /** Requests per window for one credential. */
  readonly perIdentity: number;
  /** Requests per window from one address without credentials (sign-in, SSO, health). */
  readonly perAnonymous: number;
}

export const DEFAULT_RATE_LIMITS: RateLimits = { windowMs: 60_000, perIdentity: 1200, perAnonymous: 120 };

/** Counts requests per identity; throws API_RATE_LIMITED (with the seconds to wait) over the limit. */
export interface RateLimiter {
  hit(credential: string | undefined, address: string): Promise<void>;
}

interface Key {
  readonly key: string;
  readonly max: number;
  readonly field: 'address' | 'authorization';
}

function keyOf(limits: RateLimits, credential: string | undefined, address: string): Key {
  return credential === undefined
    ? { key: `ip:${sha256Hex(address).slice(0, 32)}`, max: limits.perAnonymous, field: 'address' }
    : { key: `id:${sha256Hex(credential).slice(0, 32)}`, max: limits.perIdentity, field: 'authorization' };
}

function limited(limits: RateLimits, k: Key, windowStart: number, now: number): CustosError {
  const retryAfter = Math.max(1, Math.ceil((windowStart + limits.windowMs - now) / 1000));
  return new CustosError('API_RATE_LIMITED', `Too many requests; retry after ${retryAfter}s`, {
    details: {
      field: k.field,
      rule: `at most ${k.max} requests per ${limits.windowMs / 1000}s`,
      retryAfter,
    },
  });
}

interface Bucket {
  start: number;
  count: number;
}

/** Windows in this process's memory (one API process). */
export class MemoryRateLimiter implements RateLimiter {
  readonly #limits: RateLimits;
  readonly #buckets = new Map<string, Bucket>();
  readonly #clock: () => number;

  constructor(limits: RateLimits, clock: () => number = Date.now) {
    this.#limits = limits;
    this.#clock = clock;
  }

  hit(credential: string | undefined, address: string): Promise<void> {
    const now = this.#clock();
    const k = keyOf(this.#limits, credential, address);
    let b = this.#buckets.get(k.key);
    if (b === undefined || b.start + this.#limits.windowMs <= now) {
      if (this.#buckets.size > 100_000) this.#sweep(now);
      b = { start: now, count: 0 };
      this.#buckets.set(k.key, b);
    }
    b.count++;
    return b.count > k.max ? Promise.reject(limited(this.#limits, k, b.start, now)) : Promise.resolve();
  }

  #sweep(now: number): void {
    for (const [k, b] of this.#buckets) if (b.start + this.#limits.windowMs <= now) this.#buckets.delete(k);
  }
}

/**
 * Windows in the database, shared by every API process: fixed windows aligned to `windowMs`, one
 * atomic upsert per request. Old windows are swept now and then.
 */
export class DatabaseRateLimiter implements RateLimiter {
  readonly #limits: RateLimits;
  readonly #db: Kysely<Database>;
  readonly #clock: () => number;
  #lastSweep = 0;

  constructor(db: Kysely<Database>, limits: RateLimits, clock: () => number = Date.now) {
    this.#db = db;
    this.#limits = limits;
    this.#clock = clock;
  }

  async hit(credential: string | undefined, address: string): Promise<void> {
    const now = this.#clock();
    const k = keyOf(this.#limits, credential, address);
    const windowStart = now - (now % this.#limits.windowMs);
    const row = await this.#db
      .insertInto('rate_limit_windows')
      .values({ bucket: k.key, window_start: windowStart, hits: 1 })
      .onConflict((oc) =>
        oc
          .columns(['bucket', 'window_start'])
          .doUpdateSet({ hits: sql<number>`rate_limit_windows.hits + 1` }),
      )
      .returning('hits')
      .executeTakeFirstOrThrow();
    if (now - this.#lastSweep > this.#limits.windowMs) {
      this.#lastSweep = now;
      await this.#db
        .deleteFrom('rate_limit_windows')
        .where('window_start', '<', windowStart - this.#limits.windowMs)
        .execute();
    }
    if (row.hits > k.max) throw limited(this.#limits, k, windowStart, now);
  }
}
