import { describe, expect, it } from 'vitest';
import { isCalendarDate, scanJson } from '../../../src/privacy/detect/index.ts';
import { valuesOf } from '../../fixtures/pii-corpus/helpers.ts';

describe('date-of-birth detector', () => {
  it.each([
    ['DOB: 1985-03-12', '1985-03-12'],
    ['born 12.03.1985 in Bonn', '12.03.1985'],
    ['Date of birth: 03/12/1985', '03/12/1985'],
    ['birthday 12 March 1985', '12 March 1985'],
    ['Birthday: March 12, 1985', 'March 12, 1985'],
    ['born on the 12th of March 1985', '12th of March 1985'],
    ['geb. 12.03.85', '12.03.85'],
    ['geboren am 12. März 1985', '12. März 1985'],
    ['d.o.b 1985-03-12', '1985-03-12'],
    ['1985-03-12 (DOB)', '1985-03-12'],
    ['born 12-Mar-1985', '12-Mar-1985'],
  ])('finds %j', (text, value) => {
    expect(valuesOf('date_of_birth', text)).toEqual([value]);
  });

  it.each([
    ['no context word', 'meeting on 1985-03-12'],
    ['context too far away', `born ${'x'.repeat(60)} 1985-03-12`],
    ['another number in between', 'born in room 12, moved 1985-03-12'],
    ['impossible date', 'DOB: 1985-02-30'],
    ['month 13', 'DOB: 1985-13-01'],
    ['a label after, but not next to it', '1985-03-12, then born'],
    ['a version, not a date', 'born 6.18.68'],
    ['year out of range', 'DOB: 1850-03-12'],
  ])('rejects %s', (_name, text) => {
    expect(valuesOf('date_of_birth', text)).toEqual([]);
  });

  it('takes a birth-date JSON key as context', () => {
    const { findings } = scanJson({
      dob: '1985-03-12',
      dateOfBirth: 'March 12, 1985',
      created: '2024-01-15',
    });
    expect(findings.map((f) => [f.category, f.path])).toEqual([
      ['date_of_birth', '/dob'],
      ['date_of_birth', '/dateOfBirth'],
    ]);
  });

  it('isCalendarDate knows leap years', () => {
    expect(isCalendarDate(2000, 2, 29)).toBe(true);
    expect(isCalendarDate(1900, 2, 29)).toBe(false);
    expect(isCalendarDate(2024, 4, 31)).toBe(false);
  });
});
