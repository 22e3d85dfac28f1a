// The age X25519 recipient stanza: `-> X25519 <ephemeral share>` wrapping the file key with
// ChaCha20-Poly1305 under HKDF-SHA-256(shared secret, share || recipient, "age-encryption.org/v1/X25519").
import { createCipheriv, createDecipheriv, diffieHellman, generateKeyPairSync, hkdfSync } from 'node:crypto';
import { CustosError } from '../../errors/index.ts';
import { b64decodeStrict, b64encode } from './base64.ts';
import type { Stanza } from './header.ts';
import { x25519PublicFromRaw, x25519PublicRaw, type AgeIdentity, type AgeRecipient } from './keys.ts';

const LABEL = 'age-encryption.org/v1/X25519';
const ZERO_NONCE = Buffer.alloc(12);
export const FILE_KEY_SIZE = 16;

function headerError(rule: string): CustosError {
  return new CustosError('CUSTODY_AGE_HEADER_INVALID', `age header is malformed: ${rule}`, {
    details: { field: 'X25519 stanza', rule },
  });
}

function wrapKey(shared: Buffer, share: Buffer, recipient: Buffer): Buffer {
  if (shared.every((b) => b === 0)) throw headerError('X25519 shared secret is all zero (low-order share)');
  return Buffer.from(hkdfSync('sha256', shared, Buffer.concat([share, recipient]), LABEL, 32));
}

/** Wrap `fileKey` to one recipient. */
export function wrapX25519(fileKey: Uint8Array, recipient: AgeRecipient): Stanza {
  const eph = generateKeyPairSync('x25519');
  const share = x25519PublicRaw(eph.publicKey);
  const shared = diffieHellman({ privateKey: eph.privateKey, publicKey: recipient.keyObject });
  const key = wrapKey(shared, share, recipient.publicKey);
  const c = createCipheriv('chacha20-poly1305', key, ZERO_NONCE, { authTagLength: 16 });
  const body = Buffer.concat([c.update(fileKey), c.final(), c.getAuthTag()]);
  return { args: ['X25519', b64encode(share)], body };
}

/**
 * Try to unwrap the file key from a stanza. Resolves to undefined for other stanza types and for
 * X25519 stanzas addressed to someone else; throws CUSTODY_AGE_HEADER_INVALID for malformed ones.
 */
export function unwrapX25519(stanza: Stanza, identity: AgeIdentity): Buffer | undefined {
  if (stanza.args[0] !== 'X25519') return undefined;
  if (stanza.args.length !== 2) throw headerError('X25519 stanza takes exactly one argument');
  const share = b64decodeStrict(stanza.args[1] ?? '');
  if (share?.length !== 32) throw headerError('X25519 share is not canonical base64 of 32 bytes');
  if (stanza.body.length !== FILE_KEY_SIZE + 16) throw headerError('X25519 stanza body must be 32 bytes');
  let shared: Buffer;
  try {
    shared = diffieHellman({ privateKey: identity.privateKey, publicKey: x25519PublicFromRaw(share) });
  } catch (cause) {
    // OpenSSL refuses low-order points itself; that is the same failure as an all-zero secret.
    throw new CustosError(
      'CUSTODY_AGE_HEADER_INVALID',
      'age header is malformed: X25519 share is a low-order point',
      {
        cause,
        details: { field: 'X25519 stanza', rule: 'share is not a low-order point' },
      },
    );
  }
  const key = wrapKey(shared, share, identity.recipient.publicKey);
  const d = createDecipheriv('chacha20-poly1305', key, ZERO_NONCE, { authTagLength: 16 });
  d.setAuthTag(stanza.body.subarray(FILE_KEY_SIZE));
  const fileKey = d.update(stanza.body.subarray(0, FILE_KEY_SIZE));
  try {
    d.final();
  } catch {
    return undefined;
  }
  return fileKey;
}
