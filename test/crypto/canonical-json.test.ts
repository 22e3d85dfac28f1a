// RFC 8785 canonical JSON properties (parses back equal, idempotent, key order irrelevant) and the exact
// error code and JSON Pointer for every value that is not JSON.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson, canonicalJsonBytes } from '../../src/crypto/index.ts';
import { CustosError } from '../../src/errors/index.ts';

function thrown(fn: () => unknown): CustosError {
  try {
    fn();
  } catch (err) {
    if (err instanceof CustosError) return err;
    throw err;
  }
  throw new Error('expected a CustosError, nothing was thrown');
}

/** The same members inserted in reverse order (integer-like keys aside, JS keeps insertion order). */
function reversed(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reversed);
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  // defineProperty, not assignment: `out['__proto__'] = v` would set the prototype instead of a member,
  // and fast-check does generate "__proto__" keys.
  for (const [k, v] of Object.entries(value).reverse()) {
    Object.defineProperty(out, k, {
      value: reversed(v),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

describe('canonical JSON properties', () => {
  it('parses back to an equal value and is idempotent', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = canonicalJson(value);
        // JSON.stringify maps -0 to 0 as RFC 8785 does, so this is the value JSON can carry.
        expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(value)));
        expect(canonicalJson(JSON.parse(text))).toBe(text);
        expect(canonicalJsonBytes(value).equals(Buffer.from(text, 'utf8'))).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('does not depend on member order', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(canonicalJson(reversed(value))).toBe(canonicalJson(value));
      }),
      { numRuns: 300 },
    );
  });

  it('serializes -0 as 0, accepts null-prototype objects and omits undefined members', () => {
    expect(canonicalJson([-0, { a: -0 }])).toBe('[0,{"a":0}]');
    const bare = Object.create(null) as Record<string, unknown>;
    bare.b = 1;
    bare.a = [true, null];
    expect(canonicalJson(bare)).toBe('{"a":[true,null],"b":1}');
    expect(canonicalJson({ a: undefined, b: 2 })).toBe('{"b":2}');
  });

  it('keeps an own "__proto__" member (as JSON.parse makes it) as an ordinary key', () => {
    const parsed: unknown = JSON.parse('{"z":1,"__proto__":{"a":null}}');
    expect(canonicalJson(parsed)).toBe('{"__proto__":{"a":null},"z":1}');
    expect(canonicalJson(reversed(parsed))).toBe('{"__proto__":{"a":null},"z":1}');
  });
});

describe('canonical JSON errors', () => {
  const cases: [string, unknown, string, string][] = [
    ['NaN', { a: [1, Number.NaN] }, '/a/1', 'number must be finite'],
    ['Infinity', Number.POSITIVE_INFINITY, '/', 'number must be finite'],
    ['-Infinity', { x: Number.NEGATIVE_INFINITY }, '/x', 'number must be finite'],
    ['a bigint', { n: 1n }, '/n', 'bigint is not a JSON type'],
    ['a function', [() => 1], '/0', 'function is not a JSON type'],
    ['a symbol', { s: Symbol('s') }, '/s', 'symbol is not a JSON type'],
    ['undefined', undefined, '/', 'undefined is not a JSON type'],
    ['undefined in an array', [1, undefined], '/1', 'undefined is not a JSON type'],
    // eslint-disable-next-line no-sparse-arrays -- the hole is the point of the case
    ['a hole in a sparse array', [1, , 3], '/1', 'undefined is not a JSON type'],
    ['a Date', { at: new Date(0) }, '/at', 'only plain objects are JSON'],
    ['a Map', new Map(), '/', 'only plain objects are JSON'],
    ['a typed array', { b: new Uint8Array(2) }, '/b', 'only plain objects are JSON'],
    ['a lone surrogate in a string', { s: 'token\ud800' }, '/s', 'string has a lone surrogate'],
    ['a lone surrogate in a key', { 'k\udc00': 1 }, '/', 'key has a lone surrogate'],
    [
      'JSON Pointer escaping in the path',
      { 'a/b': { 'c~d': Number.NaN } },
      '/a~1b/c~0d',
      'number must be finite',
    ],
  ];

  for (const [name, value, field, rule] of cases) {
    it(`rejects ${name} with CRYPTO_CANONICAL_JSON_INVALID at ${field}`, () => {
      const err = thrown(() => canonicalJson(value));
      expect(err.code).toBe('CRYPTO_CANONICAL_JSON_INVALID');
      expect(err.details).toEqual({ field, rule });
      expect(err.message).not.toContain('token');
    });
  }

  it('rejects nesting deeper than 256 and cycles', () => {
    let deep: unknown = 0;
    for (let i = 0; i < 300; i++) deep = [deep];
    expect(thrown(() => canonicalJson(deep)).details.rule).toBe('nesting deeper than 256');
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const err = thrown(() => canonicalJson(cyclic));
    expect(err.code).toBe('CRYPTO_CANONICAL_JSON_INVALID');
    expect(err.details.rule).toBe('nesting deeper than 256');
  });
});
