// Local account passwords: argon2id (RFC 9106) from node:crypto, stored as a PHC string that names
// its parameters, verified in constant time; and the password policy.
import { argon2 } from 'node:crypto';
import { constantTimeEqual, randomBytes } from '../crypto/index.ts';
import { CustosError } from '../errors/index.ts';

export interface Argon2idCost {
  readonly memoryKiB: number;
  readonly passes: number;
  readonly parallelism: number;
}

export const MIN_PASSWORD_CHARS = 12;
export const MAX_PASSWORD_CHARS = 256;
const TAG_BYTES = 32;
const PHC =
  /^\$argon2id\$v=19\$m=(\d{1,7}),t=(\d{1,3}),p=(\d{1,3})\$([A-Za-z0-9+/]{16,88})\$([A-Za-z0-9+/]{16,88})$/;

function derive(password: string, salt: Buffer, cost: Argon2idCost): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    argon2(
      'argon2id',
      {
        message: password.normalize('NFC'),
        nonce: salt,
        memory: cost.memoryKiB,
        passes: cost.passes,
        parallelism: cost.parallelism,
        tagLength: TAG_BYTES,
      },
      (err, key) => {
        if (err) reject(new CustosError('INTERNAL', 'Password hashing failed', { cause: err }));
        else resolve(key);
      },
    );
  });
}

const b64 = (b: Buffer): string => b.toString('base64').replace(/=+$/, '');

/** Hash a password into a PHC string `$argon2id$v=19$m=…,t=…,p=…$salt$hash`. */
export async function hashPassword(password: string, cost: Argon2idCost): Promise<string> {
  const salt = randomBytes(16);
  const tag = await derive(password, salt, cost);
  return `$argon2id$v=19$m=${cost.memoryKiB},t=${cost.passes},p=${cost.parallelism}$${b64(salt)}$${b64(tag)}`;
}

/** True when `password` matches the PHC string; false for any malformed stored value. */
export async function verifyPassword(password: string, phc: string): Promise<boolean> {
  const m = PHC.exec(phc);
  if (m === null) return false;
  const cost = { memoryKiB: Number(m[1]), passes: Number(m[2]), parallelism: Number(m[3]) };
  const salt = Buffer.from(m[4] ?? '', 'base64');
  const expected = Buffer.from(m[5] ?? '', 'base64');
  const tag = await derive(password.slice(0, MAX_PASSWORD_CHARS), salt, cost);
  return constantTimeEqual(tag, expected);
}

/** Throws IAM_PASSWORD_WEAK naming the rule (never the password). */
export function checkPasswordPolicy(password: unknown, email: string, field = 'password'): string {
  const weak = (rule: string): CustosError =>
    new CustosError('IAM_PASSWORD_WEAK', `${field} does not meet the policy: ${rule}`, {
      details: { field, rule },
    });
  if (typeof password !== 'string') throw weak('a string');
  const chars = Array.from(password).length;
  if (chars < MIN_PASSWORD_CHARS || chars > MAX_PASSWORD_CHARS) {
    throw weak(`${MIN_PASSWORD_CHARS} to ${MAX_PASSWORD_CHARS} characters`);
  }
  if (new Set(password).size < 5) throw weak('at least 5 different characters');
  const account = email.split('@')[0]?.toLowerCase() ?? '';
  if (account.length >= 4 && password.toLowerCase().includes(account)) {
    throw weak('must not contain the account name');
  }
  return password;
}
