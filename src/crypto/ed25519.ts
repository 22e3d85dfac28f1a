// Ed25519 key pairs, signatures and encodings (raw 32-byte keys, PEM SPKI/PKCS#8), on node:crypto.
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';
import { CustosError } from '../errors/index.ts';

export interface Ed25519KeyPair {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

export function generateEd25519(): Ed25519KeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { privateKey, publicKey };
}

/** Private key from its 32-byte seed. Throws CRYPTO_INVALID_KEY. */
export function ed25519FromSeed(seed: Uint8Array): Ed25519KeyPair {
  if (seed.length !== 32) {
    throw new CustosError('CRYPTO_INVALID_KEY', 'Ed25519 seed must be 32 bytes', {
      details: { field: 'seed', rule: 'length 32' },
    });
  }
  const privateKey = createPrivateKey({
    key: Buffer.concat([PKCS8_PREFIX, seed]),
    format: 'der',
    type: 'pkcs8',
  });
  return { privateKey, publicKey: createPublicKey(privateKey) };
}

/** The 32-byte seed of a private key (for sealing in the keyring). */
export function ed25519Seed(privateKey: KeyObject): Buffer {
  const der = privateKey.export({ format: 'der', type: 'pkcs8' });
  return Buffer.from(der.subarray(der.length - 32));
}

/** Raw 32-byte public key. */
export function ed25519PublicRaw(publicKey: KeyObject): Buffer {
  const der = publicKey.export({ format: 'der', type: 'spki' });
  return Buffer.from(der.subarray(der.length - 32));
}

/** Public key from its raw 32 bytes. Throws CRYPTO_INVALID_KEY. */
export function ed25519PublicFromRaw(raw: Uint8Array): KeyObject {
  if (raw.length !== 32) {
    throw new CustosError('CRYPTO_INVALID_KEY', 'Ed25519 public key must be 32 bytes', {
      details: { field: 'publicKey', rule: 'length 32' },
    });
  }
  return createPublicKey({ key: Buffer.concat([SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
}

export function ed25519PublicPem(publicKey: KeyObject): string {
  return publicKey.export({ format: 'pem', type: 'spki' }).toString();
}

export function ed25519Sign(privateKey: KeyObject, message: Uint8Array): Buffer {
  return sign(null, message, privateKey);
}

export function ed25519Verify(publicKey: KeyObject, message: Uint8Array, signature: Uint8Array): boolean {
  if (signature.length !== 64) return false;
  return verify(null, message, publicKey, signature);
}
