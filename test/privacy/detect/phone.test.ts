import { describe, expect, it } from 'vitest';
import { isCustosError } from '../../../src/errors/index.ts';
import { isPhoneNumber, scanJson, scanText } from '../../../src/privacy/detect/index.ts';
import type { ScanOptions } from '../../../src/privacy/detect/index.ts';
import { valuesOf } from '../../fixtures/pii-corpus/helpers.ts';

describe('phone detector', () => {
  it.each([
    ['(202) 555-0123'],
    ['202-555-0123'],
    ['202.555.0123'],
    ['+1 202 555 0123'],
    ['+1-202-555-0199'],
    ['+1 (202) 555-0123'],
    ['1-800-555-0199'],
    ['(202)555-0123'],
    ['+44 20 7946 0958'],
    ['+49 30 901820'],
    ['+33 1 23 45 67 89'],
    ['+12025550123'],
  ])('finds %s', (value) => {
    expect(valuesOf('phone', `reach me at ${value}, thanks`)).toEqual([value]);
  });

  it('finds a bare number only next to a phone word', () => {
    expect(valuesOf('phone', 'Tel: 2025550123')).toEqual(['2025550123']);
    expect(valuesOf('phone', 'call 2025550123 now')).toEqual(['2025550123']);
    expect(valuesOf('phone', 'order 2025550123 shipped')).toEqual([]);
    // an identifier word does not veto a number that a phone word also introduces
    expect(valuesOf('phone', 'ticket: call 202-555-0143')).toEqual(['202-555-0143']);
  });

  it.each([
    ['an order number', 'order #2025550123'],
    ['an invalid area code', '(123) 456-7890'],
    ['seven digits without area code', 'ext 555-0123'],
    ['a date', 'on 2024-01-15'],
    ['a timestamp', '2024-01-15 10:30:00'],
    ['an epoch', 'ts 1709251200'],
    ['ISBN-10', 'ISBN 0-306-40615-2'],
    ['a price', '$1,234.56'],
    ['a tracking number tail', 'USPS 9205 7436 3374 5229 9253 57'],
    ['glued to letters', 'ref2025550123'],
    ['an order id that parses as a number', '(order 2024-000381): shipped'],
    ['an invoice number', 'invoice 202-555-0143 is overdue'],
  ])('rejects %s', (_name, text) => {
    expect(valuesOf('phone', text)).toEqual([]);
  });

  it('reads national numbers in the default region', () => {
    expect(valuesOf('phone', 'London 020 7946 0958')).toEqual([]);
    expect(valuesOf('phone', 'London 020 7946 0958', { defaultRegion: 'GB' })).toEqual(['020 7946 0958']);
    expect(valuesOf('phone', 'Berlin 030 901820', { defaultRegion: 'DE' })).toEqual(['030 901820']);
  });

  it('rejects an unknown region with INPUT_INVALID', () => {
    const bad = { defaultRegion: 'XX' } as unknown as ScanOptions;
    expect(() => scanText('x', bad)).toThrow(expect.objectContaining({ code: 'INPUT_INVALID' }));
    try {
      scanText('x', bad);
    } catch (e) {
      expect(isCustosError(e, 'INPUT_INVALID') && e.details.field).toBe('defaultRegion');
    }
  });

  it('uses a phone key as context and boosts confidence', () => {
    const { findings } = scanJson({ phone: '2025550123', note: '(202) 555-0123' });
    expect(findings.map((f) => f.path)).toEqual(['/phone', '/note']);
    const plain = scanText('(202) 555-0123').findings[0]?.confidence ?? 0;
    const keyed = scanJson({ mobile: '(202) 555-0123' }).findings[0]?.confidence ?? 0;
    expect(keyed).toBeGreaterThan(plain);
  });

  it('isPhoneNumber checks one value', () => {
    expect(isPhoneNumber('+44 20 7946 0958')).toBe(true);
    expect(isPhoneNumber('020 7946 0958', 'GB')).toBe(true);
    expect(isPhoneNumber('555-0123')).toBe(false);
    expect(isPhoneNumber('call 202 555 0123')).toBe(false);
  });
});
