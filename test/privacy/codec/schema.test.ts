import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parseDataSchema, defineDataSchema, fieldOf } from '../../../src/privacy/index.ts';
import { CustosError } from '../../../src/errors/index.ts';

const EMPLOYEE = `
type: employee
subject: email
fields:
  email: {classification: confidential, category: email, index: true}
  name: {classification: restricted, category: name}
  dept: {classification: internal}
  salary: {type: number, classification: restricted, category: financial}
  born: {type: date, classification: confidential, category: date_of_birth}
  address:
    fields:
      city: {classification: confidential, category: address, index: {bits: 32, normalize: casefold}}
      zip: {classification: internal}
`;

function schemaError(text: string): CustosError {
  try {
    parseDataSchema(text);
  } catch (err) {
    if (err instanceof CustosError) return err;
    throw err;
  }
  throw new Error('expected PRIVACY_SCHEMA_INVALID');
}

describe('data schema', () => {
  it('parses fields, nested paths, defaults and the subject', () => {
    const s = parseDataSchema(EMPLOYEE);
    expect(s.type).toBe('employee');
    expect(s.subject).toBe('email');
    expect(s.fields.map((f) => f.path)).toEqual([
      'email',
      'name',
      'dept',
      'salary',
      'born',
      'address.city',
      'address.zip',
    ]);
    expect(fieldOf(s, 'email')).toMatchObject({
      type: 'string',
      encrypted: true,
      required: true,
      index: { bits: 64, normalize: 'email' },
      mask: 'token',
      tokenDomain: 'email',
    });
    expect(fieldOf(s, 'dept')).toMatchObject({ encrypted: false, index: null, mask: 'keep', category: null });
    expect(fieldOf(s, 'address.city')).toMatchObject({ index: { bits: 32, normalize: 'casefold' } });
    expect(fieldOf(s, 'born')).toMatchObject({ mask: 'year' });
    expect(s.digest).toMatch(/^[0-9a-f]{64}$/);
  });

  it('round-trips through its stored definition with the same digest', () => {
    const s = parseDataSchema(EMPLOYEE);
    const again = defineDataSchema(JSON.parse(JSON.stringify(s.definition)));
    expect(again.digest).toBe(s.digest);
    expect(again.fields).toEqual(s.fields);
  });

  it.each([
    [
      'unknown classification',
      'fields:\n  a: {classification: secret, category: email}\n',
      'fields.a.classification',
      'one of public, internal, confidential, restricted',
      3,
    ],
    [
      'unknown category',
      'fields:\n  a: {classification: confidential, category: shoe_size}\n',
      'fields.a.category',
      'one of name,',
      3,
    ],
    ['missing classification', 'fields:\n  a: {category: email}\n', 'fields.a.classification', 'required', 3],
    [
      'category required when encrypted',
      'fields:\n  a: {classification: restricted}\n',
      'fields.a.category',
      'required for confidential',
      3,
    ],
    [
      'sensitive category in the clear',
      'fields:\n  a: {classification: internal, category: health}\n',
      'fields.a.classification',
      'health data must be confidential',
      3,
    ],
    [
      'index on a public field',
      'fields:\n  a: {classification: public, index: true}\n',
      'fields.a.index',
      'blind indexes are for',
      3,
    ],
    [
      'bad index bits',
      'fields:\n  a: {classification: confidential, category: email, index: {bits: 12}}\n',
      'fields.a.index.bits',
      'multiple of 8',
      3,
    ],
    [
      'unknown property',
      'fields:\n  a: {classification: public, encrypt: true}\n',
      'fields.a.encrypt',
      'unknown field property',
      3,
    ],
    ['reserved id', 'fields:\n  id: {classification: public}\n', 'fields.id', 'reserved', 3],
    [
      'ff1 on a number',
      'fields:\n  a: {type: number, classification: confidential, category: financial, mask: ff1}\n',
      'fields.a.mask',
      'string fields only',
      3,
    ],
  ])('refuses %s, naming the field, rule and line', (_name, body, field, rule, line) => {
    const err = schemaError(`type: t\n${body}`);
    expect(err.code).toBe('PRIVACY_SCHEMA_INVALID');
    expect(err.details.field).toBe(field);
    expect(String(err.details.rule)).toContain(rule);
    expect(err.details.line).toBe(line);
  });

  it('refuses a field declared twice (YAML duplicate key), naming it and its second line', () => {
    const err = schemaError(
      'type: t\nfields:\n  email: {classification: public}\n  name: {classification: public}\n  email: {classification: confidential, category: email}\n',
    );
    expect(err.details).toMatchObject({
      field: 'fields.email',
      rule: 'declared only once (duplicate key)',
      line: 5,
    });
  });

  it('refuses a nested duplicate and YAML aliases', () => {
    const dup = schemaError(
      'type: t\nfields:\n  a:\n    fields:\n      b: {classification: public}\n      b: {classification: public}\n',
    );
    expect(dup.details).toMatchObject({ field: 'fields.a.fields.b', line: 6 });
    const alias = schemaError('type: t\nfields:\n  a: &x {classification: public}\n  b: *x\n');
    expect(alias.details.rule).toBe('no YAML aliases');
  });

  it('reports every problem at once, and a subject that is not a declared string field', () => {
    const err = schemaError(
      'type: T!\nsubject: nope\nfields:\n  a: {classification: bogus}\n  b: {classification: public, category: nope}\n',
    );
    const fields = (err.details.problems ?? []).map((p) => p.field);
    expect(fields).toEqual(
      expect.arrayContaining(['type', 'fields.a.classification', 'fields.b.category', 'subject']),
    );
  });

  it('never fails with anything but PRIVACY_SCHEMA_INVALID on arbitrary text (fuzz)', () => {
    const yamlish = fc.stringMatching(/^[a-z:{}[\], \n&*!|>'"-]{0,120}$/);
    fc.assert(
      fc.property(fc.oneof(fc.string(), yamlish), (text) => {
        try {
          parseDataSchema(text);
        } catch (err) {
          expect(err).toBeInstanceOf(CustosError);
          expect((err as CustosError).code).toBe('PRIVACY_SCHEMA_INVALID');
        }
      }),
      { numRuns: 500 },
    );
  });
});
