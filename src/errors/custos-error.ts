// The single base class for every Custos failure: a stable code, a safe message and optional details.
// Messages and details never carry secrets, tokens, key material, ciphertext or classified values.
import { ERROR_CODES, type ErrorCode, type ErrorKind } from './codes.ts';

/** Structured, non-sensitive facts about a failure: the field and the rule it broke. */
export interface ErrorDetails {
  /** Where the problem is: a config key, JSON Pointer, CLI flag, line number. */
  readonly field?: string;
  /** The rule that was broken, in a few words. */
  readonly rule?: string;
  readonly line?: number;
  readonly column?: number;
  /** Further problems when several were found at once. */
  readonly problems?: readonly ErrorProblem[];
  readonly [key: string]: unknown;
}

export interface ErrorProblem {
  readonly field: string;
  readonly rule: string;
  readonly line?: number;
  readonly column?: number;
}

export interface CustosErrorOptions {
  readonly cause?: unknown;
  readonly details?: ErrorDetails;
}

/** Base class of every error Custos raises on purpose; callers switch on `code`. */
export class CustosError extends Error {
  readonly code: ErrorCode;
  readonly details: ErrorDetails;

  constructor(code: ErrorCode, message: string, options: CustosErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CustosError';
    this.code = code;
    this.details = options.details ?? {};
  }

  get status(): number {
    return ERROR_CODES[this.code].status;
  }

  get kind(): ErrorKind {
    return ERROR_CODES[this.code].kind;
  }
}

/** True when `err` is a CustosError, optionally with the given code. */
export function isCustosError(err: unknown, code?: ErrorCode): err is CustosError {
  return err instanceof CustosError && (code === undefined || err.code === code);
}
