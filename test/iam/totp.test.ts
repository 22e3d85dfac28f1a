// RFC 6238 TOTP against the Appendix B vectors, RFC 4226 HOTP against Appendix D, base32 round
// trips, the acceptance window and replay refusal.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  base32Decode,
  base32Encode,
  hotp,
  matchTotp,
  otpauthUri,
  timeStep,
  totp,
  type TotpAlgorithm,
} from '../../src/iam/index.ts';

interface Vector {
  title: string;
  algorithm: TotpAlgorithm;
  secretAscii: string;
  unixTime: number;
  stepHex: string;
  digits: number;
  period: number;
  code: string;
}

const { cases } = JSON.parse(
  readFileSync(new URL('../vectors/rfc6238/totp.json', import.meta.url), 'utf8'),
) as { cases: Vector[] };

describe('RFC 6238 TOTP', () => {
  it('has the 18 Appendix B vectors', () => {
    expect(cases).toHaveLength(18);
  });
  for (const v of cases) {
    it(v.title, () => {
      const secret = Buffer.from(v.secretAscii, 'ascii');
      expect(timeStep(v.unixTime, v.period)).toBe(Number.parseInt(v.stepHex, 16));
      expect(totp(secret, v.unixTime, { algorithm: v.algorithm, digits: v.digits, period: v.period })).toBe(
        v.code,
      );
    });
  }

  it('matches RFC 4226 Appendix D HOTP values', () => {
    const secret = Buffer.from('12345678901234567890', 'ascii');
    const expected = [
      '755224',
      '287082',
      '359152',
      '969429',
      '338314',
      '254676',
      '287922',
      '162583',
      '399871',
      '520489',
    ];
    expected.forEach((code, counter) => {
      expect(hotp(secret, counter)).toBe(code);
    });
  });

  it('round-trips base32 (RFC 4648) for any bytes', () => {
    expect(base32Encode(Buffer.from('foobar'))).toBe('MZXW6YTBOI');
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        expect(base32Decode(base32Encode(bytes))).toEqual(Buffer.from(bytes));
      }),
    );
    expect(base32Decode('not base32!')).toBeUndefined();
  });

  it('accepts one step of clock skew, never a code twice, and only digits', () => {
    const secret = Buffer.from('12345678901234567890', 'ascii');
    const now = 1_700_000_000;
    const step = timeStep(now);
    const code = totp(secret, now);
    expect(matchTotp(secret, code, now, 0)).toBe(step);
    expect(matchTotp(secret, code, now + 30, 0)).toBe(step);
    expect(matchTotp(secret, code, now + 90, 0)).toBeUndefined();
    expect(matchTotp(secret, code, now, step)).toBeUndefined();
    expect(matchTotp(secret, 'abcdef', now, 0)).toBeUndefined();
    expect(matchTotp(secret, `${code}0`, now, 0)).toBeUndefined();
  });

  it('builds an otpauth URI authenticator apps read', () => {
    const uri = new URL(otpauthUri(Buffer.from('12345678901234567890'), 'ada@example.test'));
    expect(uri.protocol).toBe('otpauth:');
    expect(uri.searchParams.get('secret')).toBe('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ');
    expect(uri.searchParams.get('issuer')).toBe('Custos');
  });
});
