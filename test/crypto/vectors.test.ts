// The one table-driven run of every spec vector under test/vectors/{ff1,jcs,ed25519}.
// Each case is titled with its source (NIST sample, RFC section); a file added to a folder runs here.
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  canonicalJson,
  canonicalJsonBytes,
  createFf1,
  ed25519FromSeed,
  ed25519PublicFromRaw,
  ed25519PublicRaw,
  ed25519Sign,
  ed25519Verify,
  ff1DecryptNumerals,
  ff1EncryptNumerals,
  LOWER_ALNUM,
} from '../../src/crypto/index.ts';
import { CustosError } from '../../src/errors/index.ts';

type Fields = Readonly<Record<string, unknown>>;

interface Vector {
  readonly file: string;
  readonly title: string;
  readonly fields: Fields;
}

function isFields(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Every case of every JSON file in test/vectors/<spec>/, read defensively. */
function loadVectors(spec: string): Vector[] {
  const dir = new URL(`../vectors/${spec}/`, import.meta.url);
  return readdirSync(dir)
    .filter((file) => file.endsWith('.json'))
    .sort()
    .flatMap((file) => {
      const doc = JSON.parse(readFileSync(new URL(file, dir), 'utf8')) as unknown;
      if (!isFields(doc) || !Array.isArray(doc.cases)) throw new Error(`${spec}/${file} has no cases array`);
      return (doc.cases as unknown[]).map((c, i): Vector => {
        if (!isFields(c) || typeof c.title !== 'string')
          throw new Error(`${spec}/${file} case ${i} has no title`);
        return { file, title: c.title, fields: c };
      });
    });
}

function str(v: Vector, name: string): string {
  const value = v.fields[name];
  if (typeof value !== 'string') throw new Error(`${v.title}: ${name} must be a string`);
  return value;
}

function int(v: Vector, name: string): number {
  const value = v.fields[name];
  if (typeof value !== 'number' || !Number.isInteger(value))
    throw new Error(`${v.title}: ${name} must be an integer`);
  return value;
}

function ints(v: Vector, name: string): number[] {
  const value = v.fields[name];
  if (!Array.isArray(value) || !value.every((x): x is number => Number.isInteger(x))) {
    throw new Error(`${v.title}: ${name} must be an array of integers`);
  }
  return value;
}

function hex(v: Vector, name: string): Buffer {
  return Buffer.from(str(v, name), 'hex');
}

function errorCode(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return err instanceof CustosError ? err.code : 'not a CustosError';
  }
  return 'nothing thrown';
}

describe('NIST SP 800-38G FF1 vectors', () => {
  const vectors = loadVectors('ff1');

  it('has all nine NIST samples', () => {
    expect(vectors.filter((v) => v.title.startsWith('NIST SP 800-38G FF1 Sample #'))).toHaveLength(9);
  });

  for (const v of vectors) {
    describe(`${v.title} [${v.file}]`, () => {
      const key = hex(v, 'key');
      const radix = int(v, 'radix');
      const tweak = hex(v, 'tweak');
      const plaintext = ints(v, 'plaintext');
      const ciphertext = ints(v, 'ciphertext');

      it('encrypts numerals', () => {
        expect(ff1EncryptNumerals(key, radix, tweak, plaintext)).toEqual(ciphertext);
      });

      it('decrypts numerals', () => {
        expect(ff1DecryptNumerals(key, radix, tweak, ciphertext)).toEqual(plaintext);
      });

      it('encrypts and decrypts text over the 0-9a-z alphabet, keyed once', () => {
        const alphabet = LOWER_ALNUM.slice(0, radix);
        const toText = (numerals: number[]): string => numerals.map((i) => alphabet.charAt(i)).join('');
        const ff1 = createFf1(key, alphabet);
        expect(ff1.encrypt(toText(plaintext), tweak)).toBe(toText(ciphertext));
        expect(ff1.decrypt(toText(ciphertext), tweak)).toBe(toText(plaintext));
        // Again on the same instance: cached key schedule and P block must not carry state between calls.
        expect(ff1.encrypt(toText(plaintext), tweak)).toBe(toText(ciphertext));
      });
    });
  }
});

describe('RFC 8785 JCS vectors', () => {
  const vectors = loadVectors('jcs');

  it('has the RFC examples and the whole Appendix B table', () => {
    expect(vectors.filter((v) => v.title.startsWith('RFC 8785 §'))).toHaveLength(3);
    expect(vectors.filter((v) => v.title.startsWith('RFC 8785 Appendix B'))).toHaveLength(26);
  });

  for (const v of vectors) {
    it(`${v.title} [${v.file}]`, () => {
      const f = v.fields;
      const value: unknown =
        f.ieee754 === undefined ? JSON.parse(str(v, 'input')) : hex(v, 'ieee754').readDoubleBE(0);
      if (f.error !== undefined) {
        expect(errorCode(() => canonicalJson(value))).toBe(str(v, 'error'));
        return;
      }
      if (f.expectedUtf8Hex !== undefined) {
        expect(canonicalJsonBytes(value).toString('hex')).toBe(str(v, 'expectedUtf8Hex'));
      }
      if (f.expected !== undefined) {
        const expected = str(v, 'expected');
        expect(canonicalJson(value)).toBe(expected);
        // Canonical text is a fixed point of parse-then-canonicalize.
        expect(canonicalJson(JSON.parse(expected))).toBe(expected);
      }
      if (f.expected === undefined && f.expectedUtf8Hex === undefined)
        throw new Error(`${v.title}: no expectation`);
    });
  }
});

describe('RFC 8032 Ed25519 vectors', () => {
  const vectors = loadVectors('ed25519');

  it('has TEST 1, 2 and 3', () => {
    expect(vectors.map((v) => v.title)).toEqual(
      expect.arrayContaining(['TEST 1', 'TEST 2', 'TEST 3'].map((t) => `RFC 8032 §7.1 Ed25519 ${t}`)),
    );
  });

  for (const v of vectors) {
    it(`${v.title} [${v.file}]`, () => {
      const message = hex(v, 'message');
      const signature = hex(v, 'signature');
      const { privateKey, publicKey } = ed25519FromSeed(hex(v, 'secretKey'));
      expect(ed25519PublicRaw(publicKey).toString('hex')).toBe(str(v, 'publicKey'));
      expect(ed25519Sign(privateKey, message).toString('hex')).toBe(str(v, 'signature'));

      const verifier = ed25519PublicFromRaw(hex(v, 'publicKey'));
      expect(ed25519Verify(verifier, message, signature)).toBe(true);
      const flipped = Buffer.from(signature);
      flipped[0] = (flipped[0] ?? 0) ^ 1;
      expect(ed25519Verify(verifier, message, flipped)).toBe(false);
      expect(ed25519Verify(verifier, Buffer.concat([message, Buffer.from([0])]), signature)).toBe(false);
    });
  }
});
