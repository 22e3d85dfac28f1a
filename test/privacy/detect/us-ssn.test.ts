import { describe, expect, it } from 'vitest';
import { isUsSsn, scanJson } from '../../../src/privacy/detect/index.ts';
import { valuesOf } from '../../fixtures/pii-corpus/helpers.ts';

describe('US SSN detector', () => {
  it.each(['123-45-6789', '001-01-0001', '665-12-3456', '899-99-9999', '234-56-7891'])('finds %s', (ssn) => {
    expect(valuesOf('us_ssn', `SSN ${ssn}.`)).toEqual([ssn]);
  });

  it.each([
    ['area 000', '000-12-3456'],
    ['area 666', '666-12-3456'],
    ['area 900', '900-12-3456'],
    ['area 999', '999-12-3456'],
    ['group 00', '123-00-4567'],
    ['serial 0000', '123-45-0000'],
    ['Woolworth wallet card', '078-05-1120'],
    ['Social Security Board pamphlet', '219-09-9999'],
    ['LifeLock advertisement', '457-55-5462'],
    ['wrong shape', '12-345-6789'],
    ['spaces', '123 45 6789'],
  ])('rejects %s', (_name, ssn) => {
    expect(valuesOf('us_ssn', `SSN ${ssn}.`)).toEqual([]);
  });

  it('finds nine bare digits only next to an SSN word or under an ssn key', () => {
    expect(valuesOf('us_ssn', 'ssn: 234567891')).toEqual(['234567891']);
    expect(valuesOf('us_ssn', 'Social Security no. 234567891')).toEqual(['234567891']);
    expect(valuesOf('us_ssn', 'ticket 234567891')).toEqual([]);
    expect(valuesOf('us_ssn', 'ssn: 666567891')).toEqual([]);
    const { findings } = scanJson({ customer: { ssn: '234567891' } });
    expect(findings.map((f) => [f.category, f.path])).toEqual([['us_ssn', '/customer/ssn']]);
  });

  it('isUsSsn', () => {
    expect(isUsSsn('234567891')).toBe(true);
    expect(isUsSsn('078051120')).toBe(false);
    expect(isUsSsn('23456789')).toBe(false);
  });
});
