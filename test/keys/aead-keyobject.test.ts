import { describe, expect, it } from 'vitest';
import { createSecretKey, randomBytes } from 'node:crypto';
import { open, seal } from '../../src/crypto/index.ts';

describe('AES-256-GCM with KeyObject keys (used for cached KEKs and DEKs)', () => {
  it('interoperates with raw-byte keys and checks the key size', () => {
    const raw = randomBytes(32);
    const aad = Buffer.from('aad');
    const box = seal(createSecretKey(raw), Buffer.from('hello'), aad);
    expect(open(raw, box, aad).toString()).toBe('hello');
    expect(open(createSecretKey(raw), seal(raw, Buffer.from('x'), aad), aad).toString()).toBe('x');
    expect(() => seal(createSecretKey(randomBytes(16)), Buffer.from('x'), aad)).toThrow(
      expect.objectContaining({ code: 'CRYPTO_INVALID_KEY' }),
    );
  });
});
