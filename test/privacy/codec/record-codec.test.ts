import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createSecretKey, randomBytes } from 'node:crypto';
import { RecordCodec, validateRecord, isFieldCiphertext } from '../../../src/privacy/index.ts';
import { employee } from './setup.ts';

const codec = new RecordCodec(employee);
const dek = { key: createSecretKey(randomBytes(32)), originVersion: 1 };
const ctx = { workspaceId: 'ws1', recordId: 'e-1', dek };

const record = fc.record(
  {
    email: fc.emailAddress(),
    name: fc.string({ unit: 'grapheme', maxLength: 40 }),
    phone: fc.string({ maxLength: 20 }),
    dept: fc.string({ maxLength: 10 }),
    salary: fc.double({ noNaN: true, noDefaultInfinity: true }),
    born: fc
      .date({ min: new Date('1900-01-01'), max: new Date('2020-01-01'), noInvalidDate: true })
      .map((d) => d.toISOString().slice(0, 10)),
    active: fc.boolean(),
    address: fc.record(
      { city: fc.string({ maxLength: 20 }), zip: fc.string({ maxLength: 8 }) },
      { requiredKeys: [] },
    ),
  },
  { requiredKeys: ['email'] },
);

describe('record codec', () => {
  it('decrypt(encrypt(record)) = record, with every classified leaf as field ciphertext (property)', () => {
    fc.assert(
      fc.property(record, (r) => {
        const stored = codec.encrypt(ctx, r);
        for (const f of employee.fields) {
          const v = f.segments.reduce<unknown>(
            (n, s) => (n as Record<string, unknown> | undefined)?.[s],
            stored,
          );
          if (v !== undefined) expect(isFieldCiphertext(v)).toBe(f.encrypted);
        }
        const back = codec.decrypt(ctx, JSON.parse(JSON.stringify(stored)));
        const expected = Object.keys(r.address ?? {}).length === 0 ? { ...r, address: undefined } : r;
        expect(JSON.parse(JSON.stringify(back))).toEqual(JSON.parse(JSON.stringify(expected)));
        expect(Object.is(back.salary, r.salary) || r.salary === undefined).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('names every problem of an invalid record by path, never by value', () => {
    const problems = validateRecord(employee, {
      email: 7,
      name: null,
      salary: '1000',
      address: { city: 'x', planet: 'Mars' },
      extra: 'secret-value',
      born: '2020-13-01',
    });
    expect(problems).toEqual([
      { field: 'email', rule: 'a string' },
      { field: 'salary', rule: 'a finite number' },
      { field: 'address.planet', rule: 'declared in the data schema' },
      { field: 'extra', rule: 'declared in the data schema' },
      { field: 'born', rule: 'a calendar date YYYY-MM-DD' },
    ]);
    expect(JSON.stringify(problems)).not.toContain('secret-value');
    expect(() => codec.encrypt(ctx, { name: 'x' })).toThrow(
      expect.objectContaining({ code: 'PRIVACY_RECORD_INVALID' }),
    );
  });

  it('the same record under another id does not decrypt', () => {
    const stored = codec.encrypt(ctx, { email: 'a@example.org' });
    expect(() => codec.decrypt({ ...ctx, recordId: 'e-2' }, stored)).toThrow(
      expect.objectContaining({ code: 'PRIVACY_AAD_MISMATCH' }),
    );
  });
});
