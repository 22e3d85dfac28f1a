// Each ledger's Ed25519 checkpoint key: created once, its 32-byte seed sealed by the root key
// provider with AAD naming the ledger and the public key, so a seed moved to another ledger or a
// public key swapped in the database no longer opens.
import { ed25519Seed, generateEd25519, ed25519PublicRaw } from '../crypto/index.ts';
import { CustosError } from '../errors/index.ts';
import { ed25519Signer, type NoteSigner } from './note.ts';

/** What the ledger needs of the root key provider (keys/RootKeyProvider satisfies it). */
export interface SealingKeyProvider {
  wrap(plaintext: Uint8Array, aad: Uint8Array): Promise<Buffer>;
  unwrap(sealed: Uint8Array, aad: Uint8Array): Promise<Buffer>;
}

const AAD_LABEL = 'custos/ledger-key/v1';

function aadFor(ledgerId: string, publicKey: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from(`${AAD_LABEL}\0${ledgerId}\0`, 'utf8'), publicKey]);
}

/** A fresh key for `ledgerId`: its raw public key and sealed seed. */
export async function createLedgerKey(
  root: SealingKeyProvider,
  ledgerId: string,
): Promise<{ publicKey: Buffer; sealedSeed: Buffer }> {
  const pair = generateEd25519();
  const publicKey = ed25519PublicRaw(pair.publicKey);
  const seed = ed25519Seed(pair.privateKey);
  try {
    return { publicKey, sealedSeed: await root.wrap(seed, aadFor(ledgerId, publicKey)) };
  } finally {
    seed.fill(0);
  }
}

/**
 * Unseal a ledger's 32-byte signing seed; the caller wipes it after use. Throws LEDGER_KEY_MISMATCH
 * when the seed does not open under this root key for this ledger and public key, or opens to
 * another key.
 */
export async function openLedgerSeed(
  root: SealingKeyProvider,
  ledgerId: string,
  keyName: string,
  publicKey: Buffer,
  sealedSeed: Buffer,
): Promise<Buffer> {
  let seed: Buffer;
  try {
    seed = await root.unwrap(sealedSeed, aadFor(ledgerId, publicKey));
  } catch (cause) {
    throw new CustosError(
      'LEDGER_KEY_MISMATCH',
      `The signing key of ledger ${ledgerId} does not open for its public key`,
      {
        cause,
        details: {
          field: 'ledgers.sealed_seed',
          rule: 'sealed by this root key for this ledger and public key',
          ledger: ledgerId,
        },
      },
    );
  }
  if (!ed25519Signer(keyName, seed).publicKey.equals(publicKey)) {
    seed.fill(0);
    throw new CustosError(
      'LEDGER_KEY_MISMATCH',
      `The signing key of ledger ${ledgerId} is not its public key`,
      {
        details: { field: 'ledgers.public_key', rule: 'public key of the sealed seed', ledger: ledgerId },
      },
    );
  }
  return seed;
}

/** Unseal a ledger's signer. Throws LEDGER_KEY_MISMATCH (see {@link openLedgerSeed}). */
export async function openLedgerSigner(
  root: SealingKeyProvider,
  ledgerId: string,
  keyName: string,
  publicKey: Buffer,
  sealedSeed: Buffer,
): Promise<NoteSigner> {
  const seed = await openLedgerSeed(root, ledgerId, keyName, publicKey, sealedSeed);
  try {
    return ed25519Signer(keyName, seed);
  } finally {
    seed.fill(0);
  }
}
