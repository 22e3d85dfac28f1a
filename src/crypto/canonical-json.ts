// RFC 8785 JSON Canonicalization Scheme (JCS): the bytes Custos hashes and signs.
// Keys sorted by UTF-16 code units, ECMAScript number serialization, minimal string escaping.
import { CustosError } from '../errors/index.ts';

export type JsonValue =
  null | boolean | number | string | readonly JsonValue[] | { readonly [key: string]: JsonValue };

function fail(path: string, rule: string): never {
  throw new CustosError(
    'CRYPTO_CANONICAL_JSON_INVALID',
    `Value at ${path || '/'} cannot be canonicalized: ${rule}`,
    {
      details: { field: path || '/', rule },
    },
  );
}

function serialize(value: unknown, path: string, out: string[], depth: number): void {
  if (depth > 256) fail(path, 'nesting deeper than 256');
  if (value === null) {
    out.push('null');
    return;
  }
  switch (typeof value) {
    case 'boolean':
      out.push(value ? 'true' : 'false');
      return;
    case 'number':
      if (!Number.isFinite(value)) fail(path, 'number must be finite');
      // ECMAScript Number.prototype.toString is exactly the RFC 8785 §3.2.2.3 serialization; -0 becomes 0.
      out.push(Object.is(value, -0) ? '0' : String(value));
      return;
    case 'string':
      if (/\p{Surrogate}/u.test(value) && !value.isWellFormed()) fail(path, 'string has a lone surrogate');
      out.push(JSON.stringify(value));
      return;
    case 'object': {
      if (Array.isArray(value)) {
        out.push('[');
        // An index loop, not forEach: forEach skips the holes of a sparse array, which would serialize
        // [1, , 3] as [1,3]; here a hole reads as undefined and is rejected.
        for (let i = 0; i < value.length; i++) {
          if (i > 0) out.push(',');
          serialize(value[i], `${path}/${i}`, out, depth + 1);
        }
        out.push(']');
        return;
      }
      const proto: unknown = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) fail(path, 'only plain objects are JSON');
      const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
      // Default sort compares UTF-16 code units, as RFC 8785 §3.2.3 requires.
      entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      out.push('{');
      entries.forEach(([k, v], i) => {
        if (i > 0) out.push(',');
        if (!k.isWellFormed()) fail(path, 'key has a lone surrogate');
        out.push(JSON.stringify(k), ':');
        serialize(v, `${path}/${k.replaceAll('~', '~0').replaceAll('/', '~1')}`, out, depth + 1);
      });
      out.push('}');
      return;
    }
    default:
      fail(path, `${typeof value} is not a JSON type`);
  }
}

/** RFC 8785 canonical text of a JSON value. Throws CRYPTO_CANONICAL_JSON_INVALID naming the JSON Pointer. */
export function canonicalJson(value: unknown): string {
  const out: string[] = [];
  serialize(value, '', out, 0);
  return out.join('');
}

/** RFC 8785 canonical UTF-8 bytes of a JSON value. */
export function canonicalJsonBytes(value: unknown): Buffer {
  return Buffer.from(canonicalJson(value), 'utf8');
}
