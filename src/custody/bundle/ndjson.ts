// The payload encoding: one RFC 8785 JSON object per record, LF-terminated, records in strictly
// increasing (type, id) order, batched into ~1 MiB buffers. Same records → same bytes.
import { canonicalJson, type JsonValue } from '../../crypto/index.ts';
import { CustosError } from '../../errors/index.ts';

export interface ExportRecord {
  readonly type: string;
  readonly id: string;
  /** The exported fields, already decrypted, masked or tokenized as the definition says. */
  readonly data: Readonly<Record<string, JsonValue>>;
}

const BATCH_CHARS = 1024 * 1024;

const MAX_DEPTH = 64;

/**
 * True when JSON.stringify(value) is already its RFC 8785 text: only plain objects and arrays,
 * object keys iterating in code-unit order (V8 iterates integer-like keys first, so those fail
 * here), well-formed strings, finite numbers, no undefined values, bounded depth. JSON.stringify's
 * number and string output are exactly RFC 8785's (§3.2.2.3, §3.2.2.2) for such values.
 */
function stringifiesCanonically(value: unknown, depth: number): boolean {
  switch (typeof value) {
    case 'string':
      return value.isWellFormed();
    case 'number':
      return Number.isFinite(value);
    case 'boolean':
      return true;
    case 'object': {
      if (value === null) return true;
      if (depth > MAX_DEPTH) return false;
      if (Array.isArray(value)) {
        for (const v of value as unknown[]) if (!stringifiesCanonically(v, depth + 1)) return false;
        return true;
      }
      const proto: unknown = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) return false;
      let prev: string | undefined;
      for (const k of Object.keys(value)) {
        if ((prev !== undefined && k <= prev) || !k.isWellFormed()) return false;
        const v: unknown = (value as Record<string, unknown>)[k];
        if (v === undefined || !stringifiesCanonically(v, depth + 1)) return false;
        prev = k;
      }
      return true;
    }
    default:
      return false;
  }
}

/** A copy with every object's keys inserted in code-unit order (undefined members dropped). */
function sortedCopy(value: unknown, depth: number): unknown {
  if (typeof value !== 'object' || value === null || depth > MAX_DEPTH) return value;
  if (Array.isArray(value)) return value.map((v: unknown) => sortedCopy(v, depth + 1));
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value;
  const keys = Object.keys(value);
  // Default sort compares UTF-16 code units, as RFC 8785 §3.2.3 requires.
  keys.sort();
  // No prototype, so a member named __proto__ stays a member.
  const out = Object.create(null) as Record<string, unknown>;
  for (const k of keys) {
    const v: unknown = (value as Record<string, unknown>)[k];
    if (v !== undefined) out[k] = sortedCopy(v, depth + 1);
  }
  return out;
}

/**
 * RFC 8785 text of a JSON value, the same output as crypto's canonicalJson but fast on the hot
 * path: values that JSON.stringify already renders canonically (after sorting keys, if needed)
 * go through the native serializer; anything else (integer-like keys, lone surrogates,
 * non-finite numbers, non-plain objects) is handed to canonicalJson, whose error names the pointer.
 */
export function fastCanonical(value: unknown): string {
  if (stringifiesCanonically(value, 0)) return JSON.stringify(value);
  const sorted = sortedCopy(value, 0);
  if (stringifiesCanonically(sorted, 0)) return JSON.stringify(sorted);
  return canonicalJson(value);
}

function jsonString(s: string): string {
  return s.isWellFormed() ? JSON.stringify(s) : canonicalJson(s);
}

/** One payload line: `{"data":{…},"id":"…","type":"…"}\n` (keys in RFC 8785 order). */
export function encodeLine(record: ExportRecord): string {
  const { data, id, type } = record;
  // The common case in one native call: the line object's keys are already in RFC 8785 order.
  if (id.isWellFormed() && type.isWellFormed() && stringifiesCanonically(data, 1))
    return `${JSON.stringify({ data, id, type })}\n`;
  return `{"data":${fastCanonical(data)},"id":${jsonString(id)},"type":${jsonString(type)}}\n`;
}

function compareKey(aType: string, aId: string, bType: string, bId: string): number {
  if (aType !== bType) return aType < bType ? -1 : 1;
  if (aId === bId) return 0;
  return aId < bId ? -1 : 1;
}

/**
 * Encode batches of records into NDJSON buffers of about 1 MiB. Throws CUSTODY_DEFINITION_INVALID
 * when the source breaks the (type, id) order, which would make two exports of the same data differ.
 */
export async function* encodeRecords(
  batches: AsyncIterable<readonly ExportRecord[]>,
): AsyncGenerator<Buffer> {
  let batch = '';
  let lastType: string | undefined;
  let lastId = '';
  for await (const records of batches) {
    for (const r of records) {
      if (lastType !== undefined && compareKey(lastType, lastId, r.type, r.id) >= 0) {
        throw new CustosError(
          'CUSTODY_DEFINITION_INVALID',
          'Export records are not in strictly increasing (type, id) order',
          {
            details: { field: 'records', rule: 'sorted by type then id, without duplicates' },
          },
        );
      }
      lastType = r.type;
      lastId = r.id;
      batch += encodeLine(r);
      if (batch.length >= BATCH_CHARS) {
        yield Buffer.from(batch, 'utf8');
        batch = '';
      }
    }
  }
  if (batch.length > 0) yield Buffer.from(batch, 'utf8');
}
