// FF1 properties (round trip, length and alphabet preserved, agreement with a literal transcription of
// SP 800-38G Algorithm 7) and the exact error code of every rejected input.
import { createCipheriv, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ALNUM,
  createFf1,
  DIGITS,
  ff1DecryptNumerals,
  ff1EncryptNumerals,
  ff1MinLength,
  LOWER_ALNUM,
} from '../../src/crypto/index.ts';
import { CustosError } from '../../src/errors/index.ts';

const KEY = randomBytes(32);
const NO_TWEAK = new Uint8Array(0);

function thrown(fn: () => unknown): CustosError {
  try {
    fn();
  } catch (err) {
    if (err instanceof CustosError) return err;
    throw err;
  }
  throw new Error('expected a CustosError, nothing was thrown');
}

/**
 * SP 800-38G Algorithm 7 (FF1.Encrypt) and 8 (FF1.Decrypt), step by step and slowly: NUM and STR one
 * digit at a time, b from the least k with 2^k ≥ radix^v, PRF as AES-CBC over P || Q with a zero IV.
 */
function referenceFf1(
  key: Uint8Array,
  radix: number,
  tweak: Uint8Array,
  x: readonly number[],
  decrypt: boolean,
) {
  const r = BigInt(radix);
  const num = (xs: readonly number[]): bigint => xs.reduce((acc, d) => acc * r + BigInt(d), 0n);
  const str = (m: number, c: bigint): number[] => {
    const out: number[] = [];
    for (let i = 0; i < m; i++, c /= r) out.unshift(Number(c % r));
    return out;
  };
  const be = (value: bigint, len: number): Buffer =>
    Buffer.from(value.toString(16).padStart(2 * len, '0'), 'hex');
  const aes = `aes-${key.length * 8}`;
  const prf = (data: Buffer): Buffer => {
    const c = createCipheriv(`${aes}-cbc`, key, Buffer.alloc(16)).setAutoPadding(false);
    const out = Buffer.concat([c.update(data), c.final()]);
    return out.subarray(out.length - 16);
  };
  const ciph = (block: Buffer): Buffer =>
    createCipheriv(`${aes}-ecb`, key, null).setAutoPadding(false).update(block);

  const n = x.length;
  const t = tweak.length;
  const u = Math.floor(n / 2);
  const v = n - u;
  let bits = 0n;
  while (1n << bits < r ** BigInt(v)) bits++;
  const b = Math.ceil(Number(bits) / 8);
  const d = 4 * Math.ceil(b / 4) + 4;
  const p = Buffer.concat([
    Buffer.from([1, 2, 1]),
    be(r, 3),
    Buffer.from([10, u % 256]),
    be(BigInt(n), 4),
    be(BigInt(t), 4),
  ]);
  let a = x.slice(0, u);
  let bHalf = x.slice(u);
  for (let k = 0; k < 10; k++) {
    const i = decrypt ? 9 - k : k;
    const zeros = Buffer.alloc((((-t - b - 1) % 16) + 16) % 16);
    const q = Buffer.concat([tweak, zeros, Buffer.from([i]), be(num(decrypt ? a : bHalf), b)]);
    const rBlock = prf(Buffer.concat([p, q]));
    const s = [rBlock];
    for (let j = 1; j < Math.ceil(d / 16); j++) {
      const jBlock = be(BigInt(j), 16);
      s.push(ciph(Buffer.from(rBlock.map((byte, at) => byte ^ (jBlock[at] ?? 0)))));
    }
    const y = BigInt('0x' + Buffer.concat(s).subarray(0, d).toString('hex'));
    const m = i % 2 === 0 ? u : v;
    const mod = r ** BigInt(m);
    if (decrypt) {
      const c = (((num(bHalf) - y) % mod) + mod) % mod;
      bHalf = a;
      a = str(m, c);
    } else {
      const c = (num(a) + y) % mod;
      a = bHalf;
      bHalf = str(m, c);
    }
  }
  return [...a, ...bHalf];
}

const codePoint = fc.oneof(
  fc.integer({ min: 0x20, max: 0xd7ff }),
  fc.integer({ min: 0xe000, max: 0xffff }),
  fc.integer({ min: 0x10000, max: 0x10ffff }),
);
// Lengths drawn explicitly: fast-check's default size would keep arrays short, and the long cases
// (multi-block Q, d > 16, whole tweak blocks) are the ones worth reaching.
const alphabetArb = fc
  .integer({ min: 2, max: 300 })
  .chain((len) => fc.uniqueArray(codePoint, { minLength: len, maxLength: len }))
  .map((cps) => String.fromCodePoint(...cps));
const keyArb = fc.constantFrom(16, 24, 32).chain((len) => fc.uint8Array({ minLength: len, maxLength: len }));
const tweakArb = fc.nat({ max: 70 }).chain((len) => fc.uint8Array({ minLength: len, maxLength: len }));

function textArb(alphabet: string, extra = 40): fc.Arbitrary<string> {
  const chars = Array.from(alphabet);
  const min = ff1MinLength(chars.length);
  return fc
    .nat({ max: extra })
    .chain((more) => fc.array(fc.constantFrom(...chars), { minLength: min + more, maxLength: min + more }))
    .map((cs) => cs.join(''));
}

describe('FF1 properties', () => {
  it('decrypt(encrypt(x)) = x, preserving length and alphabet, over random alphabets, keys and tweaks', () => {
    fc.assert(
      fc.property(
        alphabetArb.chain((alphabet) => fc.tuple(fc.constant(alphabet), textArb(alphabet), keyArb, tweakArb)),
        ([alphabet, text, key, tweak]) => {
          const ff1 = createFf1(key, alphabet);
          const ct = ff1.encrypt(text, tweak);
          const chars = new Set(alphabet);
          expect(Array.from(ct)).toHaveLength(Array.from(text).length);
          expect(Array.from(ct).every((c) => chars.has(c))).toBe(true);
          expect(ff1.decrypt(ct, tweak)).toBe(text);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('agrees with a literal transcription of SP 800-38G for radices up to 2^16, long inputs and tweaks', () => {
    const caseArb = fc
      .record({
        radix: fc.oneof(
          fc.integer({ min: 2, max: 65_536 }),
          fc.constantFrom(2, 10, 36, 62, 255, 256, 65_535, 65_536),
        ),
        key: keyArb,
        tweak: tweakArb,
        extra: fc.nat({ max: 70 }),
      })
      .chain(({ radix, key, tweak, extra }) =>
        fc.record({
          radix: fc.constant(radix),
          key: fc.constant(key),
          tweak: fc.constant(tweak),
          x: fc.array(fc.integer({ min: 0, max: radix - 1 }), {
            minLength: ff1MinLength(radix) + extra,
            maxLength: ff1MinLength(radix) + extra,
          }),
        }),
      );
    fc.assert(
      fc.property(caseArb, ({ radix, key, tweak, x }) => {
        const y = ff1EncryptNumerals(key, radix, tweak, x);
        expect(y).toEqual(referenceFf1(key, radix, tweak, x, false));
        expect(ff1DecryptNumerals(key, radix, tweak, y)).toEqual(x);
        expect(referenceFf1(key, radix, tweak, y, true)).toEqual(x);
      }),
      { numRuns: 150 },
    );
  });

  it('is deterministic and depends on the tweak and the key', () => {
    const ff1 = createFf1(KEY, DIGITS);
    const pan = '4111111111111111';
    const a = ff1.encrypt(pan, Buffer.from('tenant-a'));
    expect(ff1.encrypt(pan, Buffer.from('tenant-a'))).toBe(a);
    expect(ff1.encrypt(pan, Buffer.from('tenant-b'))).not.toBe(a);
    expect(createFf1(randomBytes(32), DIGITS).encrypt(pan, Buffer.from('tenant-a'))).not.toBe(a);
    expect(a).toMatch(/^\d{16}$/);
  });

  it('runs at the radix bounds: 2 (binary) and 65536 (astral alphabet)', () => {
    const bits = createFf1(KEY, '01');
    expect(bits.minLength).toBe(20);
    const b = '0'.repeat(20);
    expect(bits.decrypt(bits.encrypt(b, NO_TWEAK), NO_TWEAK)).toBe(b);

    const wide = Array.from({ length: 65_536 }, (_, i) => String.fromCodePoint(0x10000 + i)).join('');
    const ff1 = createFf1(KEY, wide);
    expect(ff1.radix).toBe(65_536);
    expect(ff1.minLength).toBe(2);
    const text = String.fromCodePoint(0x10000, 0x1ffff, 0x12345);
    const ct = ff1.encrypt(text, NO_TWEAK);
    expect(Array.from(ct)).toHaveLength(3);
    expect(ff1.decrypt(ct, NO_TWEAK)).toBe(text);
  });

  it('computes the minimum length so that radix^minlen ≥ 1,000,000', () => {
    expect([2, 10, 16, 26, 36, 62, 100, 1000, 1001, 65_536].map(ff1MinLength)).toEqual([
      20, 6, 5, 5, 4, 4, 3, 2, 2, 2,
    ]);
    expect(createFf1(KEY, ALNUM).minLength).toBe(4);
    expect(createFf1(KEY, LOWER_ALNUM).radix).toBe(36);
  });
});

describe('FF1 errors', () => {
  const ff1 = createFf1(KEY, DIGITS);

  it('rejects a character outside the alphabet without echoing the input', () => {
    for (const text of ['411111111111111X', '4111111111\ud8001111', '４１１１１１１１']) {
      for (const op of [ff1.encrypt, ff1.decrypt]) {
        const err = thrown(() => op(text, NO_TWEAK));
        expect(err.code).toBe('CRYPTO_FF1_INVALID_INPUT');
        expect(err.details).toEqual({ field: 'text', rule: 'characters from the alphabet' });
        expect(err.message).not.toContain('4111');
        expect(err.message).not.toContain('X');
      }
    }
  });

  it('rejects text shorter than the minimum length', () => {
    for (const text of ['', '1', '12345']) {
      const err = thrown(() => ff1.encrypt(text, NO_TWEAK));
      expect(err.code).toBe('CRYPTO_FF1_INVALID_INPUT');
      expect(err.details).toEqual({ field: 'numerals', rule: 'length from 6 to 2^32-1' });
      expect(thrown(() => ff1.decrypt(text, NO_TWEAK)).code).toBe('CRYPTO_FF1_INVALID_INPUT');
    }
    expect(ff1.decrypt(ff1.encrypt('123456', NO_TWEAK), NO_TWEAK)).toBe('123456');
  });

  it('rejects duplicate characters and alphabets outside 2..65536 characters', () => {
    const dup = thrown(() => createFf1(KEY, '0123456789abca'));
    expect(dup.code).toBe('CRYPTO_FF1_INVALID_INPUT');
    expect(dup.details).toEqual({ field: 'alphabet', rule: 'unique characters' });

    const tooWide = Array.from({ length: 65_537 }, (_, i) => String.fromCodePoint(0x10000 + i)).join('');
    for (const alphabet of ['', 'a', tooWide]) {
      const err = thrown(() => createFf1(KEY, alphabet));
      expect(err.code).toBe('CRYPTO_FF1_INVALID_INPUT');
      expect(err.details).toEqual({ field: 'alphabet', rule: '2 to 65536 characters' });
    }
  });

  it('rejects a bad radix', () => {
    for (const radix of [0, 1, 65_537, 10.5, Number.NaN, -10]) {
      const err = thrown(() => ff1EncryptNumerals(KEY, radix, NO_TWEAK, [1, 2, 3, 4, 5, 6]));
      expect(err.code).toBe('CRYPTO_FF1_INVALID_INPUT');
      expect(err.details).toEqual({ field: 'radix', rule: 'integer from 2 to 65536' });
      expect(thrown(() => ff1MinLength(radix)).code).toBe('CRYPTO_FF1_INVALID_INPUT');
    }
  });

  it('rejects numerals outside the radix', () => {
    for (const numerals of [
      [0, 1, 2, 3, 4, 10],
      [0, 1, 2, 3, 4, -1],
      [0, 1, 2, 3, 4, 1.5],
      [0, 1, 2, 3, 4, Number.NaN],
    ]) {
      const err = thrown(() => ff1DecryptNumerals(KEY, 10, NO_TWEAK, numerals));
      expect(err.code).toBe('CRYPTO_FF1_INVALID_INPUT');
      expect(err.details).toEqual({ field: 'numerals', rule: 'integers in [0, 10)' });
    }
  });

  it('rejects a tweak that is not bytes', () => {
    const err = thrown(() => ff1.encrypt('123456', 'tweak' as unknown as Uint8Array));
    expect(err.code).toBe('CRYPTO_FF1_INVALID_INPUT');
    expect(err.details.field).toBe('tweak');
  });

  it('rejects a key that is not 16, 24 or 32 bytes', () => {
    for (const len of [0, 15, 17, 31, 33, 64]) {
      expect(thrown(() => createFf1(new Uint8Array(len), DIGITS)).code).toBe('CRYPTO_INVALID_KEY');
      expect(
        thrown(() => ff1EncryptNumerals(new Uint8Array(len), 10, NO_TWEAK, [1, 2, 3, 4, 5, 6])).code,
      ).toBe('CRYPTO_INVALID_KEY');
    }
  });
});
