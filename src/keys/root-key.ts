// The root key provider interface (KMS-style: the root key never leaves the provider) and the
// in-process implementation shared by the key file and passphrase providers.
import { createSecretKey, type KeyObject } from 'node:crypto';
import { CustosError } from '../errors/index.ts';
import { open, seal } from '../crypto/index.ts';
import { binding } from './binding.ts';

/**
 * Seals and unseals keyring entries (KEK versions, workspace secrets) under a root key that the
 * provider keeps to itself. A PKCS#11 token or a cloud KMS implements the same two calls.
 */
export interface RootKeyProvider {
  /** A short name for status output and audit details: `local-file`, `passphrase`, `pkcs11`, `kms:…`. */
  readonly kind: string;
  /** Seal `plaintext`, binding `aad`. */
  wrap(plaintext: Uint8Array, aad: Uint8Array): Promise<Buffer>;
  /** Unseal what {@link wrap} returned for the same `aad`. Throws KEYS_KEYRING_CORRUPT when it does not verify. */
  unwrap(sealed: Uint8Array, aad: Uint8Array): Promise<Buffer>;
}

const SEALED_FORMAT = 1;
const ROOT_LABEL = 'custos/root-seal/v1';

/** A root key held in this process as a non-extractable-by-accident KeyObject. */
export class InProcessRootKey implements RootKeyProvider {
  readonly kind: string;
  readonly #key: KeyObject;

  constructor(kind: string, key: Uint8Array) {
    this.kind = kind;
    this.#key = createSecretKey(key);
  }

  wrap(plaintext: Uint8Array, aad: Uint8Array): Promise<Buffer> {
    const box = seal(this.#key, plaintext, binding(ROOT_LABEL, this.kind, aad));
    return Promise.resolve(Buffer.concat([Buffer.of(SEALED_FORMAT), box]));
  }

  unwrap(sealed: Uint8Array, aad: Uint8Array): Promise<Buffer> {
    try {
      if (sealed[0] !== SEALED_FORMAT) throw new Error('unknown sealed format');
      const aadBytes = binding(ROOT_LABEL, this.kind, aad);
      return Promise.resolve(open(this.#key, sealed.subarray(1), aadBytes));
    } catch (cause) {
      return Promise.reject(
        new CustosError('KEYS_KEYRING_CORRUPT', 'Keyring entry does not verify under this root key', {
          cause,
          details: { rule: 'sealed by this root key and unaltered' },
        }),
      );
    }
  }
}
