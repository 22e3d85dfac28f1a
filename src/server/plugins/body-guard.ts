// The JSON body parser of the API: a byte limit, then a walk that refuses excessive nesting,
// oversized collections and prototype-pollution keys, naming the JSON Pointer of the offender.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { CustosError } from '../../errors/index.ts';

export interface BodyLimits {
  readonly maxBytes: number;
  readonly maxDepth: number;
  /** Most members of one object or elements of one array. */
  readonly maxMembers: number;
  /** Most characters of one string or key. */
  readonly maxStringChars: number;
}

export const DEFAULT_BODY_LIMITS: BodyLimits = {
  maxBytes: 1024 * 1024,
  maxDepth: 32,
  maxMembers: 1000,
  maxStringChars: 1024 * 1024,
};

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

function pointer(path: readonly string[]): string {
  return `/${path.map((p) => p.replaceAll('~', '~0').replaceAll('/', '~1')).join('/')}`;
}

function fieldOf(path: readonly string[]): string {
  return path.length === 0 ? '/' : pointer(path);
}

/** Check a parsed JSON value against the limits. Throws API_BODY_TOO_DEEP, API_BODY_FORBIDDEN_KEY. */
export function checkJsonShape(value: unknown, limits: BodyLimits = DEFAULT_BODY_LIMITS): void {
  const walk = (v: unknown, path: string[], depth: number): void => {
    if (typeof v === 'string') {
      if (v.length > limits.maxStringChars) {
        throw new CustosError('API_BODY_TOO_DEEP', `String at ${fieldOf(path)} is too long`, {
          details: { field: fieldOf(path), rule: `at most ${limits.maxStringChars} characters` },
        });
      }
      return;
    }
    if (typeof v !== 'object' || v === null) return;
    if (depth >= limits.maxDepth) {
      throw new CustosError('API_BODY_TOO_DEEP', `Body is nested deeper than ${limits.maxDepth} levels`, {
        details: { field: fieldOf(path), rule: `nesting depth at most ${limits.maxDepth}` },
      });
    }
    const entries: [string, unknown][] = Array.isArray(v)
      ? v.map((x, i) => [String(i), x])
      : Object.entries(v);
    if (entries.length > limits.maxMembers) {
      throw new CustosError(
        'API_BODY_TOO_DEEP',
        `${fieldOf(path)} has more than ${limits.maxMembers} members`,
        {
          details: { field: fieldOf(path), rule: `at most ${limits.maxMembers} members` },
        },
      );
    }
    for (const [k, x] of entries) {
      if (!Array.isArray(v) && FORBIDDEN_KEYS.has(k)) {
        throw new CustosError('API_BODY_FORBIDDEN_KEY', `Body holds the forbidden key ${k}`, {
          details: { field: pointer([...path, k]), rule: 'no __proto__, constructor or prototype keys' },
        });
      }
      walk(x, [...path, k], depth + 1);
    }
  };
  walk(value, [], 0);
}

/** Parse and check a JSON body. Throws API_BODY_INVALID and the errors of {@link checkJsonShape}. */
export function parseJsonBody(text: string, limits: BodyLimits = DEFAULT_BODY_LIMITS): unknown {
  if (text.trim() === '') return undefined;
  let value: unknown;
  try {
    // JSON.parse makes `__proto__` an ordinary own key; the walk below refuses it before use.
    value = JSON.parse(text);
  } catch (cause) {
    throw new CustosError('API_BODY_INVALID', 'Request body is not valid JSON', {
      cause,
      details: { field: 'body', rule: 'RFC 8259 JSON' },
    });
  }
  checkJsonShape(value, limits);
  return value;
}

/** Replace the JSON content type parser of `app` with the guarded one. */
export function installBodyGuard(app: FastifyInstance, limits: BodyLimits): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser(
    ['application/json', 'application/problem+json', 'application/merge-patch+json'],
    { parseAs: 'string', bodyLimit: limits.maxBytes },
    (_request: FastifyRequest, body: string | Buffer, done: (err: Error | null, value?: unknown) => void) => {
      try {
        done(null, parseJsonBody(typeof body === 'string' ? body : body.toString('utf8'), limits));
      } catch (err) {
        done(err as Error);
      }
    },
  );
}
