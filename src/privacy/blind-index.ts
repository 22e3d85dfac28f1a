// Blind indexes: HMAC-SHA-256 under a per-field key over the normalized value, truncated to the field's
// configured bits; equality search on encrypted fields. What they leak: docs/privacy/blind-indexes.md.
import { hmacSha256 } from '../crypto/index.ts';
import type { BlindIndexSpec } from './schema.ts';
import { normalize } from './normalize.ts';
import type { FieldValue } from './values.ts';

/** The HKDF context of a field's blind index key: one key per record type and field path. */
export function blindIndexContext(recordType: string, fieldPath: string): string {
  return `blind-index/${recordType}/${fieldPath}`;
}

/**
 * Hex digest of a value's blind index, or undefined when the value normalizes to nothing (such values are
 * not indexed: they would all collide).
 */
export function blindIndexDigest(
  key: Uint8Array,
  value: FieldValue,
  spec: BlindIndexSpec,
): string | undefined {
  const text = normalize(value, spec.normalize);
  if (text === '') return undefined;
  return hmacSha256(key, 'custos/blind-index/v1\u0000', text)
    .subarray(0, spec.bits / 8)
    .toString('hex');
}
