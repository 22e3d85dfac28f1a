import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isPaymentCard, knownIin, luhnValid } from '../../../src/privacy/detect/index.ts';
import { group4, valuesOf, withLuhn } from '../../fixtures/pii-corpus/helpers.ts';

describe('payment card detector', () => {
  it.each([
    ['Visa 16', '4111111111111111'],
    ['Visa 16 grouped', '4111 1111 1111 1111'],
    ['Visa 16 dashed', '4012-8888-8888-1881'],
    ['Visa 13', '4222222222222'],
    ['Mastercard', '5555 5555 5555 4444'],
    ['Mastercard 2-series', '2223003122003222'],
    ['Amex 4-6-5', '3782 822463 10005'],
    ['Amex compact', '371449635398431'],
    ['Discover', '6011 1111 1111 1117'],
    ['JCB', '3530111333300000'],
    ['Diners 14 (4-6-4)', '3056 930902 5904'],
    ['UnionPay', '6200000000000005'],
  ])('finds %s', (_name, value) => {
    expect(valuesOf('payment_card', `paid with ${value}, thanks`)).toEqual([value]);
  });

  it.each([
    ['invalid Luhn', '4111 1111 1111 1112'],
    ['unknown issuer range (1…)', withLuhn('100000000000000')],
    ['unknown issuer range (9…)', withLuhn('940000000000000')],
    ['Amex length mismatch', withLuhn('3700000000000000')],
    ['odd grouping', '4111 11111111 1111'],
    ['mixed separators', '4111 1111-1111 1111'],
    ['glued to letters', 'x4111111111111111'],
    ['part of a longer run of four-digit groups', '9400 4111 1111 1111 1111 0000'],
    ['ISBN-13', '9780306406157'],
    ['20 digits', '41111111111111111112'],
  ])('rejects %s', (_name, value) => {
    expect(valuesOf('payment_card', `ref ${value} end`)).toEqual([]);
  });

  it('luhnValid and knownIin', () => {
    expect(luhnValid('79927398713')).toBe(true);
    expect(luhnValid('79927398710')).toBe(false);
    expect(knownIin('4111111111111111')).toBe(true);
    expect(knownIin('9111111111111111')).toBe(false);
    expect(isPaymentCard('4111111111111111')).toBe(true);
    expect(isPaymentCard('411111111111')).toBe(false);
  });

  it('finds every Luhn-valid Visa number and no Luhn-invalid one (property)', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[0-9]{14}$/),
        fc.constantFrom('', ' ', '-'),
        fc.integer({ min: 1, max: 9 }),
        (body, sep, bump) => {
          const good = withLuhn(`4${body}`);
          const text = sep === '' ? good : group4(good, sep);
          expect(valuesOf('payment_card', `card ${text}.`)).toEqual([text]);
          const bad = good.slice(0, -1) + String((Number(good.at(-1)) + bump) % 10);
          expect(valuesOf('payment_card', `card ${sep === '' ? bad : group4(bad, sep)}.`)).toEqual([]);
        },
      ),
    );
  });
});
