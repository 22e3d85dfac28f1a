import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ibanChecksumValid, isIban, scanText, IBAN_LENGTHS } from '../../../src/privacy/detect/index.ts';
import { group4, makeIban, valuesOf } from '../../fixtures/pii-corpus/helpers.ts';

// Published examples (national bank / SWIFT registry samples).
const EXAMPLES = [
  'DE89370400440532013000',
  'GB82WEST12345698765432',
  'FR1420041010050500013M02606',
  'NL91ABNA0417164300',
  'CH9300762011623852957',
  'AT611904300234573201',
  'BE68539007547034',
  'ES9121000418450200051332',
  'IT60X0542811101000000123456',
  'PL61109010140000071219812874',
  'NO9386011117947',
  'SE4550000000058398257466',
  'DK5000400440116243',
  'FI2112345600000785',
  'IE29AIBK93115212345678',
  'MT84MALT011000012345MTLCAST001S',
];

describe('IBAN detector', () => {
  it.each(EXAMPLES)('finds %s compact and in groups of four', (iban) => {
    expect(valuesOf('iban', `pay to ${iban}.`)).toEqual([iban]);
    expect(valuesOf('iban', `IBAN: ${group4(iban)}, thanks`)).toEqual([group4(iban)]);
  });

  it.each([
    ['wrong check digits', 'DE88370400440532013000'],
    ['check digits 00', 'DE00370400440532013000'],
    ['one digit changed', 'DE89370400440532013001'],
    ['too short for its country', 'DE8937040044053201300'],
    ['too long for its country', 'DE893704004405320130001'],
    ['unknown country', 'ZZ89370400440532013000'],
    ['lower case', 'de89370400440532013000'],
    ['glued to a word', 'XDE89370400440532013000'],
    ['irregular grouping', 'DE89 370400440532 013000'],
    ['double space', 'DE89  3704 0044 0532 0130 00'],
  ])('rejects %s', (_name, value) => {
    expect(valuesOf('iban', `account ${value} end`)).toEqual([]);
  });

  it('scores IBANs highest (checksum-validated)', () => {
    expect(scanText('DE89370400440532013000').findings[0]?.confidence).toBeGreaterThanOrEqual(0.95);
  });

  it('isIban and ibanChecksumValid', () => {
    expect(isIban('GB82WEST12345698765432')).toBe(true);
    expect(isIban('GB82WEST1234569876543')).toBe(false);
    expect(ibanChecksumValid('GB82WEST12345698765432')).toBe(true);
    expect(ibanChecksumValid('GB82WEST12345698765433')).toBe(false);
    expect(IBAN_LENGTHS.get('DE')).toBe(22);
  });

  it('finds generated IBANs and rejects any single-character substitution (property)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('DE', 'FR', 'NL', 'AT', 'BE', 'CH', 'ES', 'PL', 'SE'),
        fc.infiniteStream(fc.integer({ min: 0, max: 9 })),
        fc.nat(),
        fc.integer({ min: 1, max: 9 }),
        (country, stream, where, bump) => {
          const len = (IBAN_LENGTHS.get(country) ?? 22) - 4;
          const bban = Array.from(stream.take(len)).join('');
          const iban = makeIban(country, bban);
          expect(valuesOf('iban', `to ${iban}`)).toEqual([iban]);
          const k = 4 + (where % len);
          const altered = iban.slice(0, k) + String((Number(iban[k]) + bump) % 10) + iban.slice(k + 1);
          expect(valuesOf('iban', `to ${altered}`)).toEqual([]);
        },
      ),
    );
  });
});
