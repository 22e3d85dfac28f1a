import { describe, expect, it } from 'vitest';
import {
  effectiveTreatments,
  parseDefinitionSpec,
  specDigest,
} from '../../src/custody/definitions/definition.ts';
import { generateIdentity } from '../../src/custody/age/index.ts';
import { isCustosError } from '../../src/errors/index.ts';

const valid = {
  name: 'customers',
  outputSchemaVersion: 1,
  records: [
    {
      type: 'customer',
      fields: { name: 'clear', ssn: 'tokenize', email: { treatment: 'clear', fallback: 'tokenize' } },
    },
  ],
  triggeredBy: ['exporter'],
  purpose: 'audit',
  recipients: [generateIdentity().recipient],
  retentionDays: 365,
  sourceOrganization: 'Acme',
};

describe('export definitions', () => {
  it('parse, default the fallback to mask, and digest stably', () => {
    const spec = parseDefinitionSpec(valid);
    expect(spec.records[0]?.fields).toEqual({
      name: { treatment: 'clear', fallback: 'mask' },
      ssn: { treatment: 'tokenize', fallback: 'mask' },
      email: { treatment: 'clear', fallback: 'tokenize' },
    });
    expect(specDigest(spec)).toBe(
      specDigest(parseDefinitionSpec(JSON.parse(JSON.stringify(valid)) as unknown)),
    );
    expect(specDigest(spec)).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('clear only with a purpose grant', () => {
    const sel = parseDefinitionSpec(valid).records[0]!;
    expect(effectiveTreatments(sel, false)).toEqual({ name: 'mask', ssn: 'tokenize', email: 'tokenize' });
    expect(effectiveTreatments(sel, true)).toEqual({ name: 'clear', ssn: 'tokenize', email: 'clear' });
  });

  it('report every problem with its field and rule', () => {
    let err: unknown;
    try {
      parseDefinitionSpec({
        ...valid,
        name: 'Bad Name',
        extra: 1,
        triggeredBy: ['root'],
        recipients: ['age1nope'],
        purpose: 'multi\nline',
        retentionDays: -1,
        records: [{ type: 'customer', fields: { ok: 'shred', 'a..b': 'clear' } }],
      });
    } catch (e) {
      err = e;
    }
    expect(isCustosError(err, 'CUSTODY_DEFINITION_INVALID')).toBe(true);
    const fields = (err as { details: { problems: { field: string }[] } }).details.problems.map(
      (p) => p.field,
    );
    expect(fields).toEqual(
      expect.arrayContaining([
        '/extra',
        '/name',
        '/purpose',
        '/retentionDays',
        '/triggeredBy/0',
        '/recipients/0',
        '/records/0/fields/ok',
        '/records/0/fields/a..b',
      ]),
    );
  });
});
