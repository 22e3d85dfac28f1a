// Copies of records for lower environments (`privacy mask`): classified values replaced by deterministic
// tokens, FF1 format-preserving ciphertext, a year, or nothing; equal inputs give equal outputs, so joins survive.
import { createFf1, type Ff1 } from '../crypto/index.ts';
import type { Keyring } from '../keys/index.ts';
import { valueAt, type PlainRecord } from './record-codec.ts';
import type { DataSchema, FieldSpec } from './schema.ts';
import { defaultNormalization } from './classification.ts';
import { normalize } from './normalize.ts';
import { deterministicToken, tokenKeyContext } from './tokenize.ts';
import type { FieldValue } from './values.ts';

/** Keys for masking one workspace's records: a deterministic token key and an FF1 instance per domain. */
export interface MaskingKeys {
  tokenKey(domain: string): Uint8Array;
  ff1(domain: string, alphabet: string): Ff1;
}

const NO_TWEAK = new Uint8Array(0);
const MASKED_EMAIL_DOMAIN = 'masked.invalid';

/**
 * Derive the masking keys of every token domain the schema uses. Tokens equal those of
 * `Tokenizer.deterministic` for the same domain and normalized value. Throws KEYS_WORKSPACE_UNKNOWN.
 */
export async function loadMaskingKeys(
  keyring: Keyring,
  workspaceId: string,
  schema: DataSchema,
): Promise<MaskingKeys> {
  const tokenKeys = new Map<string, Buffer>();
  const ff1Keys = new Map<string, Buffer>();
  for (const f of schema.fields) {
    if (f.mask === 'token' && !tokenKeys.has(f.tokenDomain)) {
      tokenKeys.set(
        f.tokenDomain,
        await keyring.deriveKey(workspaceId, 'token', tokenKeyContext('deterministic', f.tokenDomain)),
      );
    }
    if (f.mask === 'ff1' && !ff1Keys.has(f.tokenDomain)) {
      ff1Keys.set(f.tokenDomain, await keyring.deriveKey(workspaceId, 'ff1', `lower-env/${f.tokenDomain}`));
    }
  }
  const engines = new Map<string, Ff1>();
  const missing = (domain: string): Error => new Error(`No masking key was loaded for domain ${domain}`);
  return {
    tokenKey: (domain) => {
      const key = tokenKeys.get(domain);
      if (!key) throw missing(domain);
      return key;
    },
    ff1: (domain, alphabet) => {
      const id = `${domain}\u0000${alphabet}`;
      let engine = engines.get(id);
      if (!engine) {
        const key = ff1Keys.get(domain);
        if (!key) throw missing(domain);
        engine = createFf1(key, alphabet);
        engines.set(id, engine);
      }
      return engine;
    },
  };
}

/** FF1 over the characters of `text` that are in the alphabet; the others keep their place. */
function ff1Preserving(engine: Ff1, alphabet: string, text: string): string | undefined {
  const chars = Array.from(text);
  const inAlphabet = new Set(Array.from(alphabet));
  const picked = chars.filter((c) => inAlphabet.has(c));
  if (picked.length < engine.minLength) return undefined;
  const enc = Array.from(engine.encrypt(picked.join(''), NO_TWEAK));
  let i = 0;
  return chars.map((c) => (inAlphabet.has(c) ? (enc[i++] ?? c) : c)).join('');
}

function tokenFor(f: FieldSpec, keys: MaskingKeys, value: FieldValue): string {
  const text = normalize(value, f.index?.normalize ?? defaultNormalization(f.category));
  const token = deterministicToken(keys.tokenKey(f.tokenDomain), text);
  return f.category === 'email' ? `${token.toLowerCase()}@${MASKED_EMAIL_DOMAIN}` : token;
}

function maskValue(f: FieldSpec, keys: MaskingKeys, value: FieldValue): FieldValue | undefined {
  switch (f.mask) {
    case 'keep':
      return value;
    case 'redact':
      return undefined;
    case 'year':
      return typeof value === 'string'
        ? `${value.slice(0, 4)}-01-01${f.type === 'datetime' ? 'T00:00:00Z' : ''}`
        : undefined;
    case 'token':
      return tokenFor(f, keys, value);
    case 'ff1': {
      if (typeof value !== 'string') return undefined;
      // Too few characters for FF1's minimum domain: a token still keeps the join.
      return (
        ff1Preserving(keys.ff1(f.tokenDomain, f.alphabet), f.alphabet, value) ?? tokenFor(f, keys, value)
      );
    }
  }
}

/**
 * A masked copy of a decrypted record for a lower environment, field by field as the schema's `mask` says:
 * `keep`, `token` (deterministic per token domain; emails keep an email shape), `ff1` (format-preserving over the
 * field's alphabet), `year` (dates keep only the year) or `redact` (left out).
 */
export function maskRecordForLowerEnv(
  schema: DataSchema,
  record: PlainRecord,
  keys: MaskingKeys,
): PlainRecord {
  const out: Record<string, unknown> = {};
  for (const f of schema.fields) {
    const v = valueAt(record, f) as FieldValue | undefined;
    if (v === undefined) continue;
    const masked = maskValue(f, keys, v);
    if (masked === undefined) continue;
    let node = out;
    f.segments.forEach((seg, i) => {
      if (i === f.segments.length - 1) {
        Object.defineProperty(node, seg, {
          value: masked,
          enumerable: true,
          writable: true,
          configurable: true,
        });
        return;
      }
      if (!Object.hasOwn(node, seg)) {
        Object.defineProperty(node, seg, { value: {}, enumerable: true, writable: true, configurable: true });
      }
      node = node[seg] as Record<string, unknown>;
    });
  }
  return out as PlainRecord;
}
