// Key ids for export signing keys: lowercase hex SHA-256 of the public key's DER SubjectPublicKeyInfo,
// reproducible with `openssl pkey -pubin -in key.pem -outform DER | sha256sum`.
import { createPublicKey, type KeyObject } from 'node:crypto';
import { sha256Hex } from '../../crypto/index.ts';
import { CustosError } from '../../errors/index.ts';

export function keyIdOf(publicKey: KeyObject): string {
  return sha256Hex(publicKey.export({ format: 'der', type: 'spki' }));
}

/** Parse every Ed25519 public key PEM block in `text`. Throws CUSTODY_KEY_UNTRUSTED naming the field. */
export function parseEd25519PublicPems(text: string, field: string): KeyObject[] {
  const blocks = text.match(/-----BEGIN PUBLIC KEY-----[\s\S]*?-----END PUBLIC KEY-----/g) ?? [];
  if (blocks.length === 0) {
    throw new CustosError('INPUT_INVALID', `${field}: no PEM public key found`, {
      details: { field, rule: 'PEM "PUBLIC KEY" (SPKI) block' },
    });
  }
  return blocks.map((pem) => {
    let key: KeyObject;
    try {
      key = createPublicKey({ key: pem, format: 'pem' });
    } catch (cause) {
      throw new CustosError('INPUT_INVALID', `${field}: PEM public key cannot be parsed`, {
        cause,
        details: { field, rule: 'SPKI public key' },
      });
    }
    if (key.asymmetricKeyType !== 'ed25519') {
      throw new CustosError('INPUT_INVALID', `${field}: key is not Ed25519`, {
        details: { field, rule: 'Ed25519 public key' },
      });
    }
    return key;
  });
}
