import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createSecretKey, randomBytes } from 'node:crypto';
import {
  decryptField,
  encryptField,
  readFieldHeader,
  type FieldBinding,
  type FieldType,
  type FieldValue,
} from '../../../src/privacy/index.ts';
import { CustosError } from '../../../src/errors/index.ts';

const dek = createSecretKey(randomBytes(32));
const base: FieldBinding = {
  workspaceId: 'ws1',
  recordType: 'employee',
  recordId: 'e-1',
  fieldPath: 'email',
  keyVersion: 3,
};

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof CustosError) return err.code;
    throw err;
  }
  return 'no error';
}

const date = fc
  .date({ min: new Date('0001-01-01T00:00:00Z'), max: new Date('9999-12-31T00:00:00Z'), noInvalidDate: true })
  .map((d) => d.toISOString().slice(0, 10));
const datetime = fc
  .date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('9999-12-31T00:00:00Z'), noInvalidDate: true })
  .map((d) => d.toISOString());
const typed: fc.Arbitrary<[FieldType, FieldValue]> = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 200 }).map((v): [FieldType, FieldValue] => ['string', v]),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((v): [FieldType, FieldValue] => ['number', v]),
  fc.boolean().map((v): [FieldType, FieldValue] => ['boolean', v]),
  date.map((v): [FieldType, FieldValue] => ['date', v]),
  datetime.map((v): [FieldType, FieldValue] => ['datetime', v]),
);
const ids = fc.stringMatching(/^[A-Za-z0-9._:-]{1,40}$/);
const binding = fc.record({
  workspaceId: ids,
  recordType: fc.stringMatching(/^[a-z][a-z0-9_-]{0,20}$/),
  recordId: ids,
  fieldPath: fc.stringMatching(/^[a-z_]{1,10}(\.[a-z_]{1,10}){0,2}$/),
  keyVersion: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
});

function flip(text: string, at: (len: number) => number): string {
  const [prefix, kv, body = ''] = text.split('.');
  const bytes = Buffer.from(body, 'base64url');
  const i = at(bytes.length);
  bytes[i] = (bytes[i] ?? 0) ^ 0x01;
  return `${prefix}.${kv}.${bytes.toString('base64url')}`;
}

describe('field ciphertext v1', () => {
  it('decrypt(encrypt(x)) = x for every field type (property)', () => {
    fc.assert(
      fc.property(typed, binding, ([type, value], b) => {
        const text = encryptField(dek, b, type, value);
        expect(readFieldHeader(text)).toMatchObject({
          version: 1,
          keyVersion: b.keyVersion,
          valueType: type,
        });
        expect(Object.is(decryptField(dek, b, type, text), value)).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });

  it('decrypts the example of docs/formats/field-ciphertext.md', () => {
    const key = createSecretKey(
      Buffer.from('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', 'hex'),
    );
    const b: FieldBinding = {
      workspaceId: 'acme',
      recordType: 'employee',
      recordId: 'e-1001',
      fieldPath: 'email',
      keyVersion: 1,
    };
    const text = 'cf1.1.c_j2_6EAbfJVeoQgBowOvaQ8YIf0teiqZcQinXLO64gVgPiCOaqLGsMHv7_X0h0iq5z0EXXqR23p';
    expect(decryptField(key, b, 'string', text)).toBe('jane@example.com');
  });

  it('is self-describing: cf1.<key version>.<base64url>, fresh nonce each time', () => {
    const a = encryptField(dek, base, 'string', 'jane@example.com');
    const b = encryptField(dek, base, 'string', 'jane@example.com');
    expect(a).toMatch(/^cf1\.3\.[A-Za-z0-9_-]+$/);
    expect(a).not.toBe(b);
  });

  it('flipping any bit of nonce, ciphertext or tag → PRIVACY_CIPHERTEXT_TAMPERED (property)', () => {
    fc.assert(
      fc.property(typed, fc.nat(), ([type, value], n) => {
        const text = encryptField(dek, base, type, value);
        const bad = flip(text, (len) => 13 + (n % (len - 13)));
        expect(codeOf(() => decryptField(dek, base, type, bad))).toBe('PRIVACY_CIPHERTEXT_TAMPERED');
      }),
      { numRuns: 500 },
    );
  });

  it('a ciphertext moved to another field or record → PRIVACY_AAD_MISMATCH; another workspace → PRIVACY_WORKSPACE_MISMATCH (property)', () => {
    fc.assert(
      fc.property(binding, binding, fc.string({ maxLength: 30 }), (a, b, value) => {
        const text = encryptField(dek, a, 'string', value);
        const code = codeOf(() => decryptField(dek, b, 'string', text));
        if (a.workspaceId !== b.workspaceId) expect(code).toBe('PRIVACY_WORKSPACE_MISMATCH');
        else if (
          a.recordType !== b.recordType ||
          a.recordId !== b.recordId ||
          a.fieldPath !== b.fieldPath ||
          a.keyVersion !== b.keyVersion
        ) {
          expect(code).toBe('PRIVACY_AAD_MISMATCH');
        } else expect(code).toBe('no error');
      }),
      { numRuns: 500 },
    );
  });

  it('names what does not match, and refuses another value type', () => {
    const text = encryptField(dek, base, 'string', 'x');
    for (const [b, rule] of [
      [{ ...base, fieldPath: 'name' }, 'same field'],
      [{ ...base, recordId: 'e-2' }, 'same record'],
      [{ ...base, recordType: 'customer' }, 'same record'],
      [{ ...base, keyVersion: 4 }, 'same key version'],
    ] as const) {
      try {
        decryptField(dek, b, 'string', text);
        expect.unreachable();
      } catch (err) {
        expect(err).toMatchObject({ code: 'PRIVACY_AAD_MISMATCH', details: { rule } });
      }
    }
    expect(codeOf(() => decryptField(dek, base, 'date', text))).toBe('PRIVACY_AAD_MISMATCH');
  });

  it('a header rewritten to look right still fails authentication', () => {
    const text = encryptField(dek, { ...base, fieldPath: 'name' }, 'string', 'x');
    const body = Buffer.from(text.split('.')[2]!, 'base64url');
    const good = Buffer.from(encryptField(dek, base, 'string', 'y').split('.')[2]!, 'base64url');
    good.copy(body, 0, 0, 13);
    expect(codeOf(() => decryptField(dek, base, 'string', `cf1.3.${body.toString('base64url')}`))).toBe(
      'PRIVACY_CIPHERTEXT_TAMPERED',
    );
  });

  it('a wrong DEK → PRIVACY_CIPHERTEXT_TAMPERED', () => {
    const text = encryptField(dek, base, 'number', 42);
    expect(codeOf(() => decryptField(createSecretKey(randomBytes(32)), base, 'number', text))).toBe(
      'PRIVACY_CIPHERTEXT_TAMPERED',
    );
  });

  it('refuses other versions and malformed text', () => {
    const text = encryptField(dek, base, 'boolean', true);
    expect(codeOf(() => decryptField(dek, base, 'boolean', text.replace(/^cf1/, 'cf2')))).toBe(
      'CRYPTO_CIPHERTEXT_VERSION_UNSUPPORTED',
    );
    for (const bad of [
      '',
      'cf1',
      'cf1.3.',
      'cf1.0.AAAA',
      'xx1.3.AAAA',
      `${text}=`,
      `cf1.3.${'A'.repeat(10)}`,
    ]) {
      expect(codeOf(() => decryptField(dek, base, 'boolean', bad))).toBe('CRYPTO_CIPHERTEXT_MALFORMED');
    }
  });

  it('never throws anything but a typed error on arbitrary input (fuzz)', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string(), fc.stringMatching(/^cf1\.[0-9]{1,3}\.[A-Za-z0-9_-]{0,80}$/)),
        (text) => {
          const code = codeOf(() => decryptField(dek, base, 'string', text));
          expect(code).toMatch(/^(CRYPTO_|PRIVACY_)/);
        },
      ),
      { numRuns: 1000 },
    );
  });
});
