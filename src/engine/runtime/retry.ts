// Retry policy: exponential backoff with jitter, and which failures are worth another attempt.
// Pure functions; the random source is passed in so tests are deterministic.
import { CustosError, isCustosError } from '../../errors/index.ts';
import type { RetryPolicy } from './types.ts';

export const DEFAULT_RETRY: RetryPolicy = {
  maxAttempts: 3,
  initialDelayMs: 200,
  maxDelayMs: 60_000,
  multiplier: 2,
  jitter: 0.5,
};

/** Ceilings no definition can exceed. */
export const RETRY_LIMITS = { maxAttempts: 20, maxDelayMs: 24 * 60 * 60 * 1000 } as const;

/**
 * Delay before attempt `failedAttempt + 1`: `initial * multiplier^(failedAttempt-1)`, capped at
 * `maxDelayMs`, of which the `jitter` fraction is drawn uniformly at random.
 */
export function backoffDelay(
  policy: RetryPolicy,
  failedAttempt: number,
  random: () => number = Math.random,
): number {
  const exponent = Math.max(0, failedAttempt - 1);
  const base = Math.min(policy.maxDelayMs, policy.initialDelayMs * policy.multiplier ** exponent);
  const jitter = Math.min(1, Math.max(0, policy.jitter));
  return Math.max(0, Math.round(base * (1 - jitter) + base * jitter * random()));
}

/** Build a policy from a definition's `{maxAttempts, backoffMs}`, clamped to the ceilings. */
export function retryPolicy(spec: { maxAttempts?: number; backoffMs?: number } | undefined): RetryPolicy {
  const maxAttempts = Math.min(
    RETRY_LIMITS.maxAttempts,
    Math.max(1, spec?.maxAttempts ?? DEFAULT_RETRY.maxAttempts),
  );
  const initialDelayMs = Math.min(
    RETRY_LIMITS.maxDelayMs,
    Math.max(0, spec?.backoffMs ?? DEFAULT_RETRY.initialDelayMs),
  );
  return { ...DEFAULT_RETRY, maxAttempts, initialDelayMs };
}

/** A failure as the runtime records it: a stable code and whether another attempt may help. */
export interface FailureInfo {
  readonly code: string;
  readonly retryable: boolean;
}

/**
 * Classify a thrown value. Caller errors (`user` kind: bad input, policy denials) are final;
 * operational failures, timeouts and unknown errors are retried.
 */
export function classifyFailure(err: unknown): FailureInfo {
  if (isCustosError(err)) return { code: err.code, retryable: err.kind !== 'user' };
  return { code: 'RUNTIME_STEP_FAILED', retryable: true };
}

/** The error a failure code stands for, for callers that rethrow (e.g. `run --wait`). */
export function failureError(code: string): CustosError {
  return new CustosError('RUNTIME_STEP_FAILED', `Step failed with ${code}`, { details: { rule: code } });
}
