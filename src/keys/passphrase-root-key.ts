// A root key derived from a passphrase with argon2id or scrypt; the parameters file holds the KDF name,
// its parameters, the salt and a check value, so a wrong passphrase is refused before anything is read.
import { argon2, scrypt } from 'node:crypto';
import { CustosError } from '../errors/index.ts';
import { constantTimeEqual, hkdf, hmacSha256, randomBytes } from '../crypto/index.ts';
import { createPrivateFile, readPrivateFile, type KeyFileRole } from './private-file.ts';
import { InProcessRootKey, type RootKeyProvider } from './root-key.ts';

const ROLE: KeyFileRole = { name: 'Passphrase parameters file', field: 'passphraseParamsFile' };
const FORMAT = 'custos-passphrase-root-key';
const KIND = 'passphrase';

export interface Argon2idParams {
  /** Memory in KiB. */
  readonly memoryKiB: number;
  readonly passes: number;
  readonly parallelism: number;
}

export interface ScryptParams {
  /** CPU/memory cost, a power of two. */
  readonly N: number;
  readonly r: number;
  readonly p: number;
}

export type PassphraseKdf =
  | { readonly kdf: 'argon2id'; readonly params: Argon2idParams }
  | { readonly kdf: 'scrypt'; readonly params: ScryptParams };

/** RFC 9106 §4, second recommended option: 64 MiB, 3 passes, 4 lanes. */
export const DEFAULT_ARGON2ID: Argon2idParams = { memoryKiB: 64 * 1024, passes: 3, parallelism: 4 };
/** RFC 7914 interactive-plus: N = 2^17, r = 8, p = 1 (128 MiB). */
export const DEFAULT_SCRYPT: ScryptParams = { N: 2 ** 17, r: 8, p: 1 };

export interface PassphraseOptions {
  /** Defaults to argon2id with {@link DEFAULT_ARGON2ID}. */
  readonly kdf?: PassphraseKdf;
}

interface ParamsFile {
  readonly format: typeof FORMAT;
  readonly version: 1;
  readonly kdf: PassphraseKdf['kdf'];
  readonly params: Argon2idParams | ScryptParams;
  readonly salt: string;
  readonly check: string;
}

const MIN_PASSPHRASE_CHARS = 12;
// Bounds on parameters read back from disk: the file is input, and absurd values would hang or exhaust memory.
const LIMITS = {
  memoryKiB: [8 * 1024, 4 * 1024 * 1024],
  passes: [1, 64],
  parallelism: [1, 64],
  N: [2 ** 10, 2 ** 22],
  r: [1, 32],
  p: [1, 16],
} as const;

function invalidParams(rule: string): CustosError {
  return new CustosError('KEYS_ROOT_KEY_CORRUPT', `Passphrase parameters file is corrupt: ${rule}`, {
    details: { field: ROLE.field, rule },
  });
}

function inRange(name: keyof typeof LIMITS, value: unknown, onError: (rule: string) => CustosError): number {
  const [lo, hi] = LIMITS[name];
  if (typeof value !== 'number' || !Number.isInteger(value) || value < lo || value > hi) {
    throw onError(`${name} is an integer from ${lo} to ${hi}`);
  }
  return value;
}

function checkKdf(kdf: unknown, params: unknown, onError: (rule: string) => CustosError): PassphraseKdf {
  if (typeof params !== 'object' || params === null) throw onError('params is an object');
  const p = params as Record<string, unknown>;
  if (kdf === 'argon2id') {
    const memoryKiB = inRange('memoryKiB', p.memoryKiB, onError);
    const passes = inRange('passes', p.passes, onError);
    const parallelism = inRange('parallelism', p.parallelism, onError);
    return { kdf, params: { memoryKiB, passes, parallelism } };
  }
  if (kdf === 'scrypt') {
    const N = inRange('N', p.N, onError);
    if ((N & (N - 1)) !== 0) throw onError('N is a power of two');
    return { kdf, params: { N, r: inRange('r', p.r, onError), p: inRange('p', p.p, onError) } };
  }
  throw onError('kdf is argon2id or scrypt');
}

function derive(passphrase: string, salt: Buffer, kdf: PassphraseKdf): Promise<Buffer> {
  // NFC so the same passphrase typed on different systems derives the same key.
  const message = passphrase.normalize('NFC');
  return new Promise((resolve, reject) => {
    const done = (err: Error | null, key: Buffer): void => {
      if (err) reject(new CustosError('INTERNAL', 'Key derivation failed', { cause: err }));
      else resolve(key);
    };
    if (kdf.kdf === 'argon2id') {
      const { memoryKiB, passes, parallelism } = kdf.params;
      argon2(
        'argon2id',
        { message, nonce: salt, memory: memoryKiB, passes, parallelism, tagLength: 32 },
        done,
      );
    } else {
      const { N, r, p } = kdf.params;
      scrypt(message, salt, 32, { N, r, p, maxmem: 256 * N * r + 1024 * 1024 }, done);
    }
  });
}

/** Split the KDF output: one key seals the keyring, another only proves the passphrase. */
function split(master: Buffer, salt: Buffer): { rootKey: Buffer; check: Buffer } {
  const rootKey = hkdf(master, salt, 'custos passphrase root key v1');
  const check = hmacSha256(hkdf(master, salt, 'custos passphrase check v1'), 'custos passphrase check');
  master.fill(0);
  return { rootKey, check };
}

/**
 * Derive a root key from `passphrase` with fresh salt and write the parameters file (0600, never overwritten).
 * Throws INPUT_INVALID for a passphrase shorter than 12 characters or bad KDF parameters, KEYS_ROOT_KEY_EXISTS.
 */
export async function createPassphraseRootKey(
  paramsPath: string,
  passphrase: string,
  opts: PassphraseOptions = {},
): Promise<RootKeyProvider> {
  if (Array.from(passphrase).length < MIN_PASSPHRASE_CHARS) {
    throw new CustosError(
      'INPUT_INVALID',
      `Passphrase must have at least ${MIN_PASSPHRASE_CHARS} characters`,
      {
        details: { field: 'passphrase', rule: `at least ${MIN_PASSPHRASE_CHARS} characters` },
      },
    );
  }
  const requested = opts.kdf ?? { kdf: 'argon2id', params: DEFAULT_ARGON2ID };
  const kdf = checkKdf(
    requested.kdf,
    requested.params,
    (rule) =>
      new CustosError('INPUT_INVALID', `KDF parameters are invalid: ${rule}`, {
        details: { field: 'kdf', rule },
      }),
  );
  const salt = randomBytes(16);
  const { rootKey, check } = split(await derive(passphrase, salt, kdf), salt);
  try {
    const file: ParamsFile = {
      format: FORMAT,
      version: 1,
      kdf: kdf.kdf,
      params: kdf.params,
      salt: salt.toString('base64url'),
      check: check.toString('base64url'),
    };
    await createPrivateFile(paramsPath, Buffer.from(JSON.stringify(file, null, 2) + '\n', 'utf8'), ROLE);
    return new InProcessRootKey(KIND, rootKey);
  } finally {
    rootKey.fill(0);
  }
}

function parseParams(bytes: Buffer): { kdf: PassphraseKdf; salt: Buffer; check: Buffer } {
  let raw: unknown;
  try {
    raw = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw invalidParams('valid JSON');
  }
  if (typeof raw !== 'object' || raw === null) throw invalidParams('a JSON object');
  const f = raw as Record<string, unknown>;
  if (f.format !== FORMAT) throw invalidParams(`format is ${FORMAT}`);
  if (f.version !== 1) throw invalidParams('version is 1');
  const kdf = checkKdf(f.kdf, f.params, invalidParams);
  const b64 = (name: string, v: unknown, len: number): Buffer => {
    const buf = typeof v === 'string' && /^[A-Za-z0-9_-]+$/.test(v) ? Buffer.from(v, 'base64url') : undefined;
    if (buf?.length !== len) throw invalidParams(`${name} is ${len} bytes of base64url`);
    return buf;
  };
  return { kdf, salt: b64('salt', f.salt, 16), check: b64('check', f.check, 32) };
}

/**
 * Re-derive the root key from `passphrase` and the parameters file. Reads only; writes nothing.
 * Throws KEYS_ROOT_KEY_MISSING, KEYS_ROOT_KEY_PERMISSIONS, KEYS_ROOT_KEY_CORRUPT (bad parameters file),
 * KEYS_PASSPHRASE_WRONG when the check value does not match.
 */
export async function openPassphraseRootKey(
  paramsPath: string,
  passphrase: string,
): Promise<RootKeyProvider> {
  const { kdf, salt, check } = parseParams(await readPrivateFile(paramsPath, ROLE));
  const derived = split(await derive(passphrase, salt, kdf), salt);
  try {
    if (!constantTimeEqual(derived.check, check)) {
      throw new CustosError('KEYS_PASSPHRASE_WRONG', 'Passphrase does not match the parameters file', {
        details: { field: 'passphrase', rule: 'matches the passphrase the root key was created with' },
      });
    }
    return new InProcessRootKey(KIND, derived.rootKey);
  } finally {
    derived.rootKey.fill(0);
  }
}
