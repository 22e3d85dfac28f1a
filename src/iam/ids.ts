// Identifiers of IAM records: a short type prefix and 64 random bits, so ids are unguessable and
// a path parameter can be checked against its kind before any lookup.
import { randomBytes } from '../crypto/index.ts';
import { CustosError } from '../errors/index.ts';

/** True when `text` has no control characters (C0 or DEL). */
export function isPrintable(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return false;
  }
  return true;
}

export type IdKind = 'usr' | 'grt' | 'elv' | 'ses' | 'chl';

export function newId(kind: IdKind): string {
  return `${kind}_${randomBytes(8).toString('hex')}`;
}

/** Throws INPUT_INVALID naming `field` unless `value` is an id of `kind`. */
export function checkId(value: unknown, kind: IdKind, field: string): string {
  if (typeof value !== 'string' || !new RegExp(`^${kind}_[0-9a-f]{16}$`).test(value)) {
    throw new CustosError('INPUT_INVALID', `${field} is not a valid identifier`, {
      details: { field, rule: `${kind}_ followed by 16 hex digits` },
    });
  }
  return value;
}
