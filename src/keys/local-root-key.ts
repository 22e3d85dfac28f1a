// The embedded root key provider: 32 random bytes in an owner-only text file, never in the database.
// Format: comment lines, then `custos-root-key-v1:<base64url key>:<hex SHA-256 prefix>`.
import { CustosError } from '../errors/index.ts';
import { constantTimeEqual, randomBytes, sha256 } from '../crypto/index.ts';
import { createPrivateFile, readPrivateFile, type KeyFileRole } from './private-file.ts';
import { InProcessRootKey, type RootKeyProvider } from './root-key.ts';

const ROLE: KeyFileRole = { name: 'Root key file', field: 'rootKeyFile' };
const PREFIX = 'custos-root-key-v1';
const KIND = 'local-file';

function checksum(key: Uint8Array): string {
  return sha256(key).subarray(0, 4).toString('hex');
}

function encode(key: Uint8Array): string {
  return [
    '# Custos root key. Keep it secret and back it up offline: without it no encrypted data can be read.',
    `${PREFIX}:${Buffer.from(key).toString('base64url')}:${checksum(key)}`,
    '',
  ].join('\n');
}

function corrupt(rule: string): CustosError {
  return new CustosError('KEYS_ROOT_KEY_CORRUPT', `Root key file is corrupt: ${rule}`, {
    details: { field: ROLE.field, rule },
  });
}

function decode(text: string): Buffer {
  const lines = text.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#'));
  const [line] = lines;
  if (lines.length !== 1 || line === undefined) throw corrupt('exactly one key line');
  const parts = line.trim().split(':');
  if (parts.length !== 3 || parts[0] !== PREFIX) throw corrupt(`line of the form ${PREFIX}:<key>:<checksum>`);
  const [, b64 = '', sum = ''] = parts;
  if (!/^[A-Za-z0-9_-]{43}$/.test(b64)) throw corrupt('key is 32 bytes of base64url');
  const key = Buffer.from(b64, 'base64url');
  if (!constantTimeEqual(Buffer.from(checksum(key)), Buffer.from(sum))) {
    key.fill(0);
    throw corrupt('checksum matches the key');
  }
  return key;
}

/**
 * Generate a root key and write it to a new file with mode 0600 (O_EXCL: never overwrites).
 * Throws KEYS_ROOT_KEY_EXISTS when the file exists, DATA_DIR_UNREADABLE when it cannot be created.
 */
export async function createLocalRootKeyFile(path: string): Promise<RootKeyProvider> {
  const key = randomBytes(32);
  try {
    await createPrivateFile(path, Buffer.from(encode(key), 'utf8'), ROLE);
    return new InProcessRootKey(KIND, key);
  } finally {
    key.fill(0);
  }
}

/**
 * Open an existing root key file. Throws KEYS_ROOT_KEY_MISSING, KEYS_ROOT_KEY_PERMISSIONS when group or
 * others have any access, KEYS_ROOT_KEY_CORRUPT when the content is not a well-formed key.
 */
export async function openLocalRootKeyFile(path: string): Promise<RootKeyProvider> {
  const bytes = await readPrivateFile(path, ROLE);
  const key = decode(bytes.toString('utf8'));
  bytes.fill(0);
  try {
    return new InProcessRootKey(KIND, key);
  } finally {
    key.fill(0);
  }
}
