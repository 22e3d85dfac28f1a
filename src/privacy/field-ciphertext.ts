// Field ciphertext v1 (docs/formats/field-ciphertext.md): `cf1.<key version>.<base64url body>`, AES-256-GCM
// under the record's DEK, AAD binding workspace, record type, record id, field path, key version and value type.
import type { KeyObject } from 'node:crypto';
import { CustosError } from '../errors/index.ts';
import { GCM_NONCE_BYTES, GCM_TAG_BYTES, open, seal, sha256 } from '../crypto/index.ts';
import type { FieldType } from './classification.ts';
import { decodeValue, encodeValue, TYPE_CODES, type FieldValue } from './values.ts';

export const FIELD_CIPHERTEXT_VERSION = 1;
const PREFIX = 'cf';
const TAG_BYTES = 4;
/** type code (1) + workspace tag (4) + record tag (4) + field tag (4). */
export const HEADER_BYTES = 1 + 3 * TAG_BYTES;
const MIN_BODY = HEADER_BYTES + GCM_NONCE_BYTES + GCM_TAG_BYTES;
const MAX_KEY_VERSION = 2 ** 31 - 1;
const TEXT = /^cf([0-9]{1,3})\.([0-9]{1,10})\.([A-Za-z0-9_-]+)$/;

/** Where a field value lives; every part is bound into the AAD. */
export interface FieldBinding {
  readonly workspaceId: string;
  readonly recordType: string;
  readonly recordId: string;
  readonly fieldPath: string;
  /** The record DEK's origin KEK version. */
  readonly keyVersion: number;
}

/** What the clear header of a field ciphertext says. */
export interface FieldCiphertextHeader {
  readonly version: number;
  readonly keyVersion: number;
  readonly valueType: FieldType;
}

function lengthPrefixed(parts: readonly string[]): Buffer {
  const bufs = parts.map((p) => Buffer.from(p, 'utf8'));
  const out = Buffer.allocUnsafe(bufs.reduce((n, b) => n + 4 + b.length, 0));
  let off = 0;
  for (const b of bufs) {
    out.writeUInt32BE(b.length, off);
    b.copy(out, off + 4);
    off += 4 + b.length;
  }
  return out;
}

/** First 4 bytes of SHA-256 over a labelled, length-prefixed tuple. */
function tag(label: string, ...parts: string[]): Buffer {
  return sha256(lengthPrefixed([label, ...parts])).subarray(0, TAG_BYTES);
}

export function workspaceTag(workspaceId: string): Buffer {
  return tag('custos/cf1/workspace', workspaceId);
}

export function recordTag(recordType: string, recordId: string): Buffer {
  return tag('custos/cf1/record', recordType, recordId);
}

export function fieldTag(fieldPath: string): Buffer {
  return tag('custos/cf1/field', fieldPath);
}

/** Precomputed tags of one record, so encrypting its fields hashes each id once. */
export interface RecordTags {
  readonly workspace: Buffer;
  readonly record: Buffer;
  readonly field: (path: string) => Buffer;
}

export function recordTags(
  b: Omit<FieldBinding, 'fieldPath' | 'keyVersion'>,
  fieldTags?: Map<string, Buffer>,
): RecordTags {
  const cache = fieldTags ?? new Map<string, Buffer>();
  return {
    workspace: workspaceTag(b.workspaceId),
    record: recordTag(b.recordType, b.recordId),
    field: (path) => {
      let t = cache.get(path);
      if (!t) {
        t = fieldTag(path);
        cache.set(path, t);
      }
      return t;
    },
  };
}

function aad(header: Buffer, b: FieldBinding): Buffer {
  return Buffer.concat([
    header,
    lengthPrefixed([
      'custos/cf1',
      b.workspaceId,
      b.recordType,
      b.recordId,
      b.fieldPath,
      String(b.keyVersion),
    ]),
  ]);
}

const TYPE_BY_CODE = new Map(Object.entries(TYPE_CODES).map(([type, code]) => [code, type as FieldType]));

function typeOf(code: number | undefined): FieldType | undefined {
  return code === undefined ? undefined : TYPE_BY_CODE.get(code);
}

/** Encrypt one field value (checked against `type` beforehand) under the record DEK. */
export function encryptField(
  dek: KeyObject,
  binding: FieldBinding,
  type: FieldType,
  value: FieldValue,
  tags: RecordTags = recordTags(binding),
): string {
  const header = Buffer.allocUnsafe(HEADER_BYTES);
  header[0] = TYPE_CODES[type];
  tags.workspace.copy(header, 1);
  tags.record.copy(header, 1 + TAG_BYTES);
  tags.field(binding.fieldPath).copy(header, 1 + 2 * TAG_BYTES);
  const box = seal(dek, encodeValue(type, value), aad(header, binding));
  const body = Buffer.concat([header, box]).toString('base64url');
  return `${PREFIX}${FIELD_CIPHERTEXT_VERSION}.${binding.keyVersion}.${body}`;
}

/** True when `value` looks like field ciphertext (any version); says nothing about validity. */
export function isFieldCiphertext(value: unknown): value is string {
  return typeof value === 'string' && value.startsWith(PREFIX) && TEXT.test(value);
}

function malformed(rule: string): CustosError {
  return new CustosError('CRYPTO_CIPHERTEXT_MALFORMED', `Field ciphertext is malformed: ${rule}`, {
    details: { rule },
  });
}

/** Parse the clear header. Throws CRYPTO_CIPHERTEXT_MALFORMED, CRYPTO_CIPHERTEXT_VERSION_UNSUPPORTED. */
export function readFieldHeader(text: string): FieldCiphertextHeader & { body: Buffer } {
  const m = TEXT.exec(text);
  if (!m) throw malformed(`cf<version>.<key version>.<base64url>`);
  const version = Number(m[1]);
  if (version !== FIELD_CIPHERTEXT_VERSION) {
    throw new CustosError(
      'CRYPTO_CIPHERTEXT_VERSION_UNSUPPORTED',
      `Field ciphertext version ${version} is not supported`,
      {
        details: { rule: `version ${FIELD_CIPHERTEXT_VERSION}`, version },
      },
    );
  }
  const keyVersion = Number(m[2]);
  if (keyVersion < 1 || keyVersion > MAX_KEY_VERSION) throw malformed('key version from 1 to 2^31-1');
  const encoded = m[3] ?? '';
  const body = Buffer.from(encoded, 'base64url');
  // Only the canonical encoding is accepted: no two texts decrypt to the same field.
  if (body.length < MIN_BODY || body.toString('base64url') !== encoded)
    throw malformed(`canonical base64url of at least ${MIN_BODY} bytes`);
  const valueType = typeOf(body[0]);
  if (!valueType) throw malformed('known value type code');
  return { version, keyVersion, valueType, body };
}

/**
 * Decrypt one field. The clear header is compared with the expected binding before decrypting, so a
 * ciphertext moved from elsewhere is named as such. Throws CRYPTO_CIPHERTEXT_MALFORMED,
 * CRYPTO_CIPHERTEXT_VERSION_UNSUPPORTED, PRIVACY_WORKSPACE_MISMATCH, PRIVACY_AAD_MISMATCH (another record,
 * field, key version or value type), PRIVACY_CIPHERTEXT_TAMPERED (authentication failed).
 */
export function decryptField(
  dek: KeyObject,
  binding: FieldBinding,
  type: FieldType,
  text: string,
  tags: RecordTags = recordTags(binding),
): FieldValue {
  const h = readFieldHeader(text);
  const body = h.body;
  const mismatch = (what: string): CustosError =>
    new CustosError('PRIVACY_AAD_MISMATCH', `Field ciphertext belongs to another ${what}`, {
      details: { field: binding.fieldPath, rule: `same ${what}` },
    });
  if (!tags.workspace.equals(body.subarray(1, 1 + TAG_BYTES))) {
    throw new CustosError('PRIVACY_WORKSPACE_MISMATCH', 'Field ciphertext belongs to another workspace', {
      details: { field: binding.fieldPath, rule: 'same workspace' },
    });
  }
  if (!tags.record.equals(body.subarray(1 + TAG_BYTES, 1 + 2 * TAG_BYTES))) throw mismatch('record');
  if (!tags.field(binding.fieldPath).equals(body.subarray(1 + 2 * TAG_BYTES, HEADER_BYTES)))
    throw mismatch('field');
  if (h.keyVersion !== binding.keyVersion) throw mismatch('key version');
  if (h.valueType !== type) throw mismatch('value type');
  let plain: Buffer;
  try {
    plain = open(dek, body.subarray(HEADER_BYTES), aad(body.subarray(0, HEADER_BYTES), binding));
  } catch (cause) {
    throw new CustosError(
      'PRIVACY_CIPHERTEXT_TAMPERED',
      'Field ciphertext failed authentication: it was altered',
      {
        cause,
        details: { field: binding.fieldPath, rule: 'authentic AES-256-GCM ciphertext' },
      },
    );
  }
  return decodeValue(type, plain);
}
