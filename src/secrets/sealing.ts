// The stored form of a secret value: a format byte, then AES-256-GCM under a fresh DEK whose AAD
// binds workspace, name, version, connector and environment, so a ciphertext moved anywhere fails.
import type { KeyObject } from 'node:crypto';
import { canonicalJsonBytes, open, seal } from '../crypto/index.ts';
import { CustosError } from '../errors/index.ts';
import type { CheckedRef } from './names.ts';

const FORMAT_V1 = 1;
const LABEL = 'custos/secret-value/v1';

function aad(ref: CheckedRef, version: number, dekId: string): Buffer {
  return canonicalJsonBytes([LABEL, ref.workspace, ref.name, version, ref.connector, ref.env, dekId]);
}

/** Seal `value` for one secret version. */
export function sealValue(
  key: KeyObject,
  ref: CheckedRef,
  version: number,
  dekId: string,
  value: Uint8Array,
): Buffer {
  return Buffer.concat([Buffer.of(FORMAT_V1), seal(key, value, aad(ref, version, dekId))]);
}

/** Open a sealed value. Throws SECRETS_CORRUPT when the format is unknown or the tag does not verify. */
export function openValue(
  key: KeyObject,
  ref: CheckedRef,
  version: number,
  dekId: string,
  sealed: Uint8Array,
): string {
  if (sealed[0] !== FORMAT_V1) {
    throw new CustosError('SECRETS_CORRUPT', 'Stored secret has an unknown format', {
      details: { rule: `format ${FORMAT_V1}`, secret: `${ref.connector}/${ref.env}/${ref.name}`, version },
    });
  }
  let plain: Buffer;
  try {
    plain = open(key, sealed.subarray(1), aad(ref, version, dekId));
  } catch (cause) {
    throw new CustosError(
      'SECRETS_CORRUPT',
      'Stored secret does not decrypt for its name, scope and version',
      {
        cause,
        details: {
          rule: 'unaltered ciphertext in its own row',
          secret: `${ref.connector}/${ref.env}/${ref.name}`,
          version,
        },
      },
    );
  }
  const text = plain.toString('utf8');
  plain.fill(0);
  return text;
}
