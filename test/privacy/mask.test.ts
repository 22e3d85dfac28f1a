import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  maskCard,
  maskDate,
  maskEmail,
  maskGeneric,
  maskIban,
  maskIpAddress,
  maskName,
  maskPhone,
  maskSsn,
} from '../../src/privacy/mask.ts';

describe('masks', () => {
  it.each([
    [maskEmail, 'jane.doe@example.com', 'j***@example.com'],
    [maskEmail, 'no-at-sign', '**********'],
    [maskEmail, '😀x@example.com', '😀***@example.com'],
    [maskSsn, '123-45-6789', '***-**-6789'],
    [maskSsn, '123456789', '***-**-6789'],
    [maskSsn, '12', '**'],
    [maskCard, '4111 1111 1111 1111', '**** **** **** 1111'],
    [maskCard, '4111-1111-1111-1111', '****-****-****-1111'],
    [maskCard, '378282246310005', '***********0005'],
    [maskIban, 'DE89 3704 0044 0532 0130 00', 'DE** **** **** **** **30 00'],
    [maskIban, 'GB82WEST12345698765432', 'GB****************5432'],
    [maskPhone, '+1 (202) 555-0123', '+* (***) ***-0123'],
    [maskPhone, '555-0123', '***-*123'],
    [maskPhone, '12345', '***45'],
    [maskPhone, 'n/a', '***'],
    [maskCard, '1234', '****'],
    [maskName, 'Jean-Luc Picard', 'J***-L*** P***'],
    [maskName, 'Zoë  Ångström', 'Z***  Å***'],
    [maskIpAddress, '203.0.113.7', '203.*.*.*'],
    [maskIpAddress, '2001:db8::1', '2001:*'],
    [maskDate, '12 March 1985', '** ***** ****'],
    [maskDate, '1985-03-12', '****-**-**'],
  ])('%o(%j) = %j', (mask, input, expected) => {
    expect(mask(input)).toBe(expected);
  });

  it('maskGeneric keeps at most half, by code point', () => {
    expect(maskGeneric('abcdefgh', 4)).toBe('****efgh');
    expect(maskGeneric('abc', 4)).toBe('**c');
    expect(maskGeneric('😀😀😀😀', 2)).toBe('**😀😀');
    expect(maskGeneric('abc')).toBe('***');
    expect(maskGeneric('abc', -3)).toBe('***');
    expect(maskGeneric('', 2)).toBe('');
  });

  it('are deterministic and never show a value of two or more characters whole (property)', () => {
    const masks = [
      maskEmail,
      maskSsn,
      maskCard,
      maskIban,
      maskPhone,
      maskName,
      maskIpAddress,
      maskDate,
      (v: string) => maskGeneric(v, 4),
    ];
    fc.assert(
      fc.property(
        fc.string({ minLength: 2, maxLength: 40 }).filter((s) => /[A-Za-z0-9]{2}/.test(s)),
        fc.constantFrom(...masks),
        (value, mask) => {
          expect(mask(value)).toBe(mask(value));
          if (value.replace(/[^A-Za-z0-9]/g, '').length >= 2) expect(mask(value)).not.toBe(value);
        },
      ),
    );
  });
});
