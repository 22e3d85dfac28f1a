// Typed field values: what each field type accepts, and the plaintext bytes a value is encrypted as
// (UTF-8 text, IEEE 754 binary64 big-endian, one byte for booleans), with the exact inverse.
import { CustosError } from '../errors/index.ts';
import type { FieldType } from './classification.ts';

export type FieldValue = string | number | boolean;

/** Longest text value accepted in one field, in UTF-8 bytes. */
export const MAX_TEXT_BYTES = 64 * 1024;

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATETIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

function validDate(y: string, m: string, d: string): boolean {
  const year = Number(y);
  const month = Number(m);
  const day = Number(d);
  if (month < 1 || month > 12 || day < 1) return false;
  return day <= new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** Why `value` does not fit `type`, or undefined when it does. Never mentions the value itself. */
export function checkValue(type: FieldType, value: unknown): string | undefined {
  switch (type) {
    case 'string':
      if (typeof value !== 'string') return 'a string';
      if (!value.isWellFormed()) return 'well-formed Unicode text';
      return Buffer.byteLength(value, 'utf8') > MAX_TEXT_BYTES
        ? `at most ${MAX_TEXT_BYTES} bytes`
        : undefined;
    case 'number':
      return typeof value === 'number' && Number.isFinite(value) ? undefined : 'a finite number';
    case 'boolean':
      return typeof value === 'boolean' ? undefined : 'true or false';
    case 'date': {
      const m = typeof value === 'string' ? DATE.exec(value) : null;
      return m && validDate(m[1] ?? '', m[2] ?? '', m[3] ?? '') ? undefined : 'a calendar date YYYY-MM-DD';
    }
    case 'datetime': {
      const m = typeof value === 'string' ? DATETIME.exec(value) : null;
      const ok =
        m &&
        validDate(m[1] ?? '', m[2] ?? '', m[3] ?? '') &&
        Number(m[4]) < 24 &&
        Number(m[5]) < 60 &&
        Number(m[6]) < 60;
      return ok ? undefined : 'an RFC 3339 date-time, e.g. 2024-05-01T12:00:00Z';
    }
  }
}

/** One ASCII letter per type in field ciphertext headers. */
export const TYPE_CODES: Readonly<Record<FieldType, number>> = {
  string: 0x73, // s
  number: 0x6e, // n
  boolean: 0x62, // b
  date: 0x64, // d
  datetime: 0x74, // t
};

/** Plaintext bytes of a value already checked with {@link checkValue}. */
export function encodeValue(type: FieldType, value: FieldValue): Buffer {
  switch (type) {
    case 'number': {
      const b = Buffer.allocUnsafe(8);
      b.writeDoubleBE(value as number);
      return b;
    }
    case 'boolean':
      return Buffer.of(value === true ? 1 : 0);
    default:
      return Buffer.from(value as string, 'utf8');
  }
}

/** Inverse of {@link encodeValue}. Throws PRIVACY_CIPHERTEXT_TAMPERED when the bytes cannot be a value of `type`. */
export function decodeValue(type: FieldType, bytes: Buffer): FieldValue {
  const bad = (): CustosError =>
    new CustosError('PRIVACY_CIPHERTEXT_TAMPERED', `Decrypted bytes are not a ${type} value`, {
      details: { rule: `a ${type} value` },
    });
  switch (type) {
    case 'number':
      if (bytes.length !== 8) throw bad();
      return bytes.readDoubleBE(0);
    case 'boolean':
      if (bytes.length !== 1 || (bytes[0] !== 0 && bytes[0] !== 1)) throw bad();
      return bytes[0] === 1;
    default:
      // GCM already authenticated these bytes as the UTF-8 this module wrote.
      return bytes.toString('utf8');
  }
}
