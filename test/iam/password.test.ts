// argon2id password hashing (PHC strings with their parameters) and the password policy.
import { describe, expect, it } from 'vitest';
import { checkPasswordPolicy, hashPassword, verifyPassword } from '../../src/iam/index.ts';

const CHEAP = { memoryKiB: 1024, passes: 1, parallelism: 1 };

describe('passwords', () => {
  it('hashes with argon2id into a PHC string and verifies', async () => {
    const phc = await hashPassword('correct horse battery staple', CHEAP);
    expect(phc).toMatch(/^\$argon2id\$v=19\$m=1024,t=1,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    expect(await verifyPassword('correct horse battery staple', phc)).toBe(true);
    expect(await verifyPassword('correct horse battery stapl', phc)).toBe(false);
    expect(await hashPassword('correct horse battery staple', CHEAP)).not.toBe(phc);
  });

  it('verifies with the parameters stored in the hash (default cost)', async () => {
    const phc = await hashPassword('another long passphrase', {
      memoryKiB: 19 * 1024,
      passes: 2,
      parallelism: 1,
    });
    expect(phc).toContain('m=19456,t=2,p=1');
    expect(await verifyPassword('another long passphrase', phc)).toBe(true);
  });

  it('treats a malformed stored hash as a mismatch', async () => {
    expect(await verifyPassword('x', '$argon2id$v=19$m=1,t=1,p=1$bad$bad')).toBe(false);
    expect(await verifyPassword('x', 'plaintext')).toBe(false);
  });

  it('refuses weak passwords naming the rule, never the password', () => {
    expect(() => checkPasswordPolicy('short', 'ada@example.test')).toThrow(/12 to 256 characters/);
    expect(() => checkPasswordPolicy('aaaaaaaaaaaaaaaa', 'ada@example.test')).toThrow(/5 different/);
    expect(() => checkPasswordPolicy('lovelace-is-my-name', 'lovelace@example.test')).toThrow(/account name/);
    try {
      checkPasswordPolicy('tiny', 'ada@example.test');
    } catch (err) {
      expect(String(err)).not.toContain('tiny');
    }
    expect(checkPasswordPolicy('a perfectly fine passphrase', 'ada@example.test')).toBe(
      'a perfectly fine passphrase',
    );
  });
});
