import { describe, expect, it } from 'vitest';
import { isCustosError } from '../../../src/errors/index.ts';
import { compileCustomDetector, patternRisk, scanText } from '../../../src/privacy/detect/index.ts';
import type { CustomDetectorSpec } from '../../../src/privacy/detect/index.ts';
import { found } from '../../fixtures/pii-corpus/helpers.ts';

function rejection(spec: CustomDetectorSpec): { field: unknown; rule: unknown; message: string } {
  try {
    compileCustomDetector(spec);
  } catch (e) {
    if (isCustosError(e, 'PRIVACY_PATTERN_INVALID'))
      return { field: e.details.field, rule: e.details.rule, message: e.message };
    throw e;
  }
  throw new Error('accepted');
}

describe('custom detectors', () => {
  it('report custom:<name> findings, filtered by the validator', () => {
    const custom = [
      { name: 'employee-id', pattern: 'EMP-\\d{6}' },
      {
        name: 'even',
        pattern: 'N\\d+',
        validate: (m: string) => Number(m.slice(1)) % 2 === 0,
        confidence: 0.6,
      },
    ];
    const text = 'EMP-123456 and N12, N13';
    expect(found(text, { custom })).toEqual([
      ['custom:employee-id', 'EMP-123456'],
      ['custom:even', 'N12'],
    ]);
    const result = scanText(text, { custom });
    expect(result.counts['custom:even']).toBe(1);
    expect(result.findings[1]?.confidence).toBe(0.6);
  });

  it('drop matches whose validator throws', () => {
    const custom = [
      {
        name: 'x',
        pattern: 'x\\d',
        validate: () => {
          throw new Error('boom');
        },
      },
    ];
    expect(found('x1 x2', { custom })).toEqual([]);
  });

  it.each([
    ['syntax error', { name: 'a', pattern: '(unclosed' }, 'pattern'],
    ['nested quantifier', { name: 'a', pattern: '(a+)+$' }, 'pattern'],
    ['nested star', { name: 'a', pattern: '(?:\\w*\\s?)*x' }, 'pattern'],
    ['repeated group with unbounded inside', { name: 'a', pattern: '(\\d+-){2,}' }, 'pattern'],
    ['back-reference', { name: 'a', pattern: '(a)\\1' }, 'pattern'],
    ['named back-reference', { name: 'a', pattern: '(?<x>a)\\k<x>' }, 'pattern'],
    ['empty match', { name: 'a', pattern: 'a*' }, 'pattern'],
    ['too long', { name: 'a', pattern: 'a'.repeat(1001) }, 'pattern'],
    ['bad name', { name: 'Bad Name', pattern: 'a' }, 'name'],
    ['bad flags', { name: 'a', pattern: 'a', flags: 'g' }, 'flags'],
    ['bad confidence', { name: 'a', pattern: 'a', confidence: 2 }, 'confidence'],
  ] as const)('reject %s with PRIVACY_PATTERN_INVALID', (_name, spec, field) => {
    expect(rejection(spec).field).toBe(field);
  });

  it('never quote the rejected pattern', () => {
    const secret = 'SECRET-(?<';
    const r = rejection({ name: 'a', pattern: secret });
    expect(r.message).not.toContain(secret);
    expect(JSON.stringify(r)).not.toContain(secret);
  });

  it('reject duplicate names', () => {
    expect(() =>
      scanText('x', {
        custom: [
          { name: 'a', pattern: 'x' },
          { name: 'a', pattern: 'y' },
        ],
      }),
    ).toThrow(expect.objectContaining({ code: 'PRIVACY_PATTERN_INVALID' }));
  });

  it('accept ordinary patterns', () => {
    for (const p of [
      '[A-Z]{2}\\d{6}',
      '(?:foo|bar)\\d+',
      '\\b\\d{3}-\\d{4}\\b',
      '(?<=id:)\\w+',
      'a{2,5}(b|c)?',
    ]) {
      expect(patternRisk(p)).toBeUndefined();
    }
  });
});
