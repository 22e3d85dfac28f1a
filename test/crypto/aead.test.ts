// AES-256-GCM seal/open: round trip, layout, and the exact code for tampering, wrong AAD or key,
// short boxes and bad keys.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AES_KEY_BYTES, GCM_NONCE_BYTES, GCM_TAG_BYTES, open, seal } from '../../src/crypto/index.ts';
import { CustosError } from '../../src/errors/index.ts';

function thrown(fn: () => unknown): CustosError {
  try {
    fn();
  } catch (err) {
    if (err instanceof CustosError) return err;
    throw err;
  }
  throw new Error('expected a CustosError, nothing was thrown');
}

const keyArb = fc.uint8Array({ minLength: AES_KEY_BYTES, maxLength: AES_KEY_BYTES });
const bytesArb = fc.uint8Array({ maxLength: 512 });
const OVERHEAD = GCM_NONCE_BYTES + GCM_TAG_BYTES;

describe('seal/open properties', () => {
  it('open(seal(x)) = x, and the box is nonce || ciphertext || tag', () => {
    fc.assert(
      fc.property(keyArb, bytesArb, bytesArb, (key, plaintext, aad) => {
        const box = seal(key, plaintext, aad);
        expect(box).toHaveLength(plaintext.length + OVERHEAD);
        expect(open(key, box, aad).equals(plaintext)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('one flipped bit anywhere in the box fails with CRYPTO_DECRYPT_FAILED', () => {
    fc.assert(
      fc.property(keyArb, bytesArb, bytesArb, fc.nat(), (key, plaintext, aad, bit) => {
        const box = seal(key, plaintext, aad);
        const at = bit % (box.length * 8);
        box[at >> 3] = (box[at >> 3] ?? 0) ^ (1 << (at & 7));
        expect(thrown(() => open(key, box, aad)).code).toBe('CRYPTO_DECRYPT_FAILED');
      }),
      { numRuns: 300 },
    );
  });

  it('a different AAD or key fails with CRYPTO_DECRYPT_FAILED', () => {
    fc.assert(
      fc.property(keyArb, keyArb, bytesArb, bytesArb, bytesArb, (key, otherKey, plaintext, aad, otherAad) => {
        const box = seal(key, plaintext, aad);
        if (!Buffer.from(otherAad).equals(aad)) {
          expect(thrown(() => open(key, box, otherAad)).code).toBe('CRYPTO_DECRYPT_FAILED');
        }
        if (!Buffer.from(otherKey).equals(key)) {
          expect(thrown(() => open(otherKey, box, aad)).code).toBe('CRYPTO_DECRYPT_FAILED');
        }
      }),
      { numRuns: 200 },
    );
  });

  it('a box shorter than nonce + tag fails with CRYPTO_CIPHERTEXT_MALFORMED', () => {
    fc.assert(
      fc.property(keyArb, fc.uint8Array({ maxLength: OVERHEAD - 1 }), (key, box) => {
        expect(thrown(() => open(key, box, new Uint8Array(0))).code).toBe('CRYPTO_CIPHERTEXT_MALFORMED');
      }),
    );
  });

  it('uses a fresh nonce for every seal', () => {
    const key = new Uint8Array(AES_KEY_BYTES).fill(7);
    const boxes = Array.from({ length: 50 }, () => seal(key, Buffer.from('same'), Buffer.from('aad')));
    const nonces = new Set(boxes.map((b) => b.subarray(0, GCM_NONCE_BYTES).toString('hex')));
    expect(nonces.size).toBe(boxes.length);
  });
});

describe('seal/open errors', () => {
  it('an empty plaintext seals to exactly nonce + tag and opens', () => {
    const key = new Uint8Array(AES_KEY_BYTES);
    const box = seal(key, new Uint8Array(0), new Uint8Array(0));
    expect(box).toHaveLength(OVERHEAD);
    expect(open(key, box, new Uint8Array(0))).toHaveLength(0);
  });

  it('rejects keys that are not 32 bytes with CRYPTO_INVALID_KEY', () => {
    for (const len of [0, 16, 24, 31, 33]) {
      const key = new Uint8Array(len);
      expect(thrown(() => seal(key, new Uint8Array(1), new Uint8Array(0))).code).toBe('CRYPTO_INVALID_KEY');
      expect(thrown(() => open(key, new Uint8Array(64), new Uint8Array(0))).code).toBe('CRYPTO_INVALID_KEY');
    }
  });
});
