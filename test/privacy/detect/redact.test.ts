import { describe, expect, it } from 'vitest';
import { redactText, scanText } from '../../../src/privacy/detect/index.ts';
import type { Finding } from '../../../src/privacy/detect/index.ts';

const TEXT =
  'jane.doe@example.com, (202) 555-0123, 4111 1111 1111 1111, DE89 3704 0044 0532 0130 00, ' +
  '123-45-6789, 203.0.113.7, DOB: 1985-03-12';

describe('redactText', () => {
  it('masks each category', () => {
    expect(redactText(TEXT, scanText(TEXT).findings)).toBe(
      'j***@example.com, (***) ***-0123, **** **** **** 1111, DE** **** **** **** **30 00, ' +
        '***-**-6789, 203.*.*.*, DOB: ****-**-**',
    );
  });

  it('labels or blanks findings', () => {
    const findings = scanText('mail jane@example.com now').findings;
    expect(redactText('mail jane@example.com now', findings, 'label')).toBe('mail [EMAIL] now');
    expect(redactText('mail jane@example.com now', findings, 'fixed')).toBe('mail [REDACTED] now');
    const custom = scanText('id EMP-123456', { custom: [{ name: 'emp', pattern: 'EMP-\\d+' }] }).findings;
    expect(redactText('id EMP-123456', custom, 'label')).toBe('id [CUSTOM:EMP]');
    expect(redactText('id EMP-123456', custom)).toBe('id **********');
  });

  it('accepts findings in any order and merges overlaps', () => {
    const findings: Finding[] = [
      { category: 'email', start: 5, end: 10, confidence: 1 },
      { category: 'phone', start: 0, end: 3, confidence: 1 },
      { category: 'email', start: 8, end: 12, confidence: 1 },
    ];
    expect(redactText('abcdefghijklmn', findings, 'label')).toBe('[PHONE]de[EMAIL]mn');
    const mixed: Finding[] = [
      { category: 'email', start: 0, end: 4, confidence: 1 },
      { category: 'phone', start: 2, end: 6, confidence: 1 },
    ];
    expect(redactText('abcdefgh', mixed, 'label')).toBe('[REDACTED]gh');
  });

  it('returns the text unchanged without findings', () => {
    expect(redactText('nothing here', [])).toBe('nothing here');
  });

  it.each([
    ['start after end', { category: 'email', start: 4, end: 2, confidence: 1 }],
    ['end past the text', { category: 'email', start: 0, end: 99, confidence: 1 }],
    ['fractional offset', { category: 'email', start: 0.5, end: 2, confidence: 1 }],
    ['negative start', { category: 'email', start: -1, end: 2, confidence: 1 }],
  ] as const)('rejects %s with INPUT_INVALID naming the finding', (_name, finding) => {
    expect(() => redactText('abcdef', [finding])).toThrow(
      expect.objectContaining({
        code: 'INPUT_INVALID',
        details: expect.objectContaining({ field: 'findings/0' }) as unknown,
      }),
    );
  });
});
