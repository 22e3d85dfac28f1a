// The payload encoding: one RFC 8785 JSON object per record, LF-terminated, records in strictly
// increasing (type, id) order, batched into ~1 MiB buffers. Same records → same bytes.
import { canonicalJson, type JsonValue } from '../../crypto/index.ts';
import { CustosError } from '../../errors/index.ts';
import { ChunkPool } from '../io/chunk-pool.ts';

export interface ExportRecord {
  readonly type: string;
  readonly id: string;
  /** The exported fields, already decrypted, masked or tokenized as the definition says. */
  readonly data: Readonly<Record<string, JsonValue>>;
}

const MAX_DEPTH = 64;

/**
 * JSON.stringify escapes a lone surrogate as `\udXXX` (and writes well-formed pairs raw), so output
 * without this sequence had no lone surrogate in any key or string. Output with it (a lone surrogate,
 * or a literal backslash followed by "ud") takes the exact path.
 */
const LONE_SURROGATE_ESCAPE = '\\ud';

/**
 * True when JSON.stringify(value) is its RFC 8785 text, provided that text has no lone surrogate
 * escape: only plain objects and arrays, object keys iterating in code-unit order (V8 iterates
 * integer-like keys first, so those fail here), finite numbers, no undefined values, bounded depth.
 * JSON.stringify's number and string output are exactly RFC 8785's (§3.2.2.3, §3.2.2.2) for such
 * values.
 */
function shapeIsCanonical(value: unknown, depth: number): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value);
    case 'object':
      return value === null || containerIsCanonical(value, depth);
    default:
      return false;
  }
}

/** shapeIsCanonical of each member, primitives checked inline (this is the encoder's hot loop). */
function containerIsCanonical(value: object, depth: number): boolean {
  if (depth > MAX_DEPTH) return false;
  if (Array.isArray(value)) {
    // for…of reads holes as undefined, which fails, as canonicalJson refuses them.
    for (const v of value as unknown[]) {
      const t = typeof v;
      if (t === 'string' || t === 'boolean') continue;
      if (t === 'number' ? !Number.isFinite(v) : !shapeIsCanonical(v, depth + 1)) return false;
    }
    return true;
  }
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return false;
  // for…in lists own keys in Object.keys order without allocating an array; keys inherited from a
  // polluted Object.prototype would follow them, and checking those too is harmless.
  let prev: string | undefined;
  for (const k in value) {
    if (prev !== undefined && k <= prev) return false;
    prev = k;
    const v: unknown = (value as Record<string, unknown>)[k];
    const t = typeof v;
    if (t === 'string' || t === 'boolean') continue;
    // An undefined member fails (shapeIsCanonical refuses it) and leaves the value to the exact path.
    if (t === 'number' ? !Number.isFinite(v) : !shapeIsCanonical(v, depth + 1)) return false;
  }
  return true;
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

/** JSON.stringify(value) when that is its RFC 8785 text, else undefined. */
function nativeCanonical(value: unknown): string | undefined {
  if (!shapeIsCanonical(value, 0)) return undefined;
  const text = JSON.stringify(value);
  return text.includes(LONE_SURROGATE_ESCAPE) ? undefined : text;
}

/**
 * RFC 8785 text of a JSON value, the same output as crypto's canonicalJson but fast on the hot
 * path: values that JSON.stringify already renders canonically (after sorting keys, if needed)
 * go through the native serializer; anything else (integer-like keys, lone surrogates,
 * non-finite numbers, non-plain objects) is handed to canonicalJson, whose error names the pointer.
 */
export function fastCanonical(value: unknown): string {
  return nativeCanonical(value) ?? nativeCanonical(sortedCopy(value, 0)) ?? canonicalJson(value);
}

/** The line without its LF by the exact path (any key order, any strings; errors name the pointer). */
function exactLine(record: ExportRecord): string {
  const { data, id, type } = record;
  return `{"data":${fastCanonical(data)},"id":${canonicalJson(id)},"type":${canonicalJson(type)}}`;
}

/**
 * The line without its LF in one native call when the data's shape allows it (the line object's
 * own keys are already in RFC 8785 order); the caller must still reject the text if it contains
 * LONE_SURROGATE_ESCAPE.
 */
function nativeLine(record: ExportRecord): string | undefined {
  const { data, id, type } = record;
  if (typeof id !== 'string' || typeof type !== 'string' || !shapeIsCanonical(data, 1)) return undefined;
  return JSON.stringify({ data, id, type });
}

/** One payload line: `{"data":{…},"id":"…","type":"…"}\n` (keys in RFC 8785 order). */
export function encodeLine(record: ExportRecord): string {
  const line = nativeLine(record);
  if (line !== undefined && !line.includes(LONE_SURROGATE_ESCAPE)) return `${line}\n`;
  return `${exactLine(record)}\n`;
}

/** Output buffers are about this size; a longer line gets a buffer of its own. */
const CHUNK_BYTES = 1024 * 1024;
/**
 * Chunks an export's payload cycles through: the one being filled, those queued to be written
 * (writeBundle keeps up to four), and room for the hashing workers to fall a few MiB behind.
 */
const PAYLOAD_CHUNKS = 16;

/** The pool an export's payload is encoded into (see EncodeOptions and writeBundle's payloadPool). */
export function createPayloadPool(): ChunkPool {
  return new ChunkPool(PAYLOAD_CHUNKS, CHUNK_BYTES);
}

/** UTF-8 needs at most 3 bytes per UTF-16 code unit. */
const MAX_UTF8_PER_UNIT = 3;
const LF = 0x0a;
const LONE_SURROGATE_ESCAPE_BYTES = Buffer.from(LONE_SURROGATE_ESCAPE, 'latin1');

function outOfOrder(): CustosError {
  return new CustosError(
    'CUSTODY_DEFINITION_INVALID',
    'Export records are not in strictly increasing (type, id) order',
    {
      details: { field: 'records', rule: 'sorted by type then id, without duplicates' },
    },
  );
}

/**
 * A full buffer whose native lines may hold a lone surrogate escape (or a literal "\\ud"): one
 * search per buffer instead of one per line, as such text is rare. The lines that have it are
 * parsed back and redone on the exact path, which gives the same text for a literal backslash and
 * throws for a lone surrogate. Parsing a native line gives back the record it was made from: only
 * strings, finite numbers, booleans, null, arrays and plain objects with keys in code-unit order
 * take the native path, and JSON.stringify writes each of them losslessly.
 */
function checked(buf: Buffer, pool: ChunkPool | undefined): Buffer {
  if (!buf.includes(LONE_SURROGATE_ESCAPE_BYTES)) return buf;
  try {
    const lines = buf.toString('utf8').split('\n');
    lines.pop();
    const redone = lines.map((line) =>
      line.includes(LONE_SURROGATE_ESCAPE) ? exactLine(JSON.parse(line) as ExportRecord) : line,
    );
    return Buffer.from(`${redone.join('\n')}\n`, 'utf8');
  } finally {
    // Redone or refused, the pooled bytes are not handed on.
    pool?.release(buf);
  }
}

export interface EncodeOptions {
  /**
   * Fill this pool's chunks instead of allocating a buffer per MiB. Each yielded buffer is then a
   * chunk (or the front of one) held for the consumer, which must release it when done with it.
   * A line longer than a chunk still gets a buffer of its own (which release ignores).
   */
  readonly pool?: ChunkPool;
}

/**
 * Encode batches of records into NDJSON buffers of about 1 MiB (or of the pool's chunk size).
 * Throws CUSTODY_DEFINITION_INVALID when the source breaks the (type, id) order, which would make
 * two exports of the same data differ, and CRYPTO_CANONICAL_JSON_INVALID for a value RFC 8785
 * cannot represent.
 *
 * This is the export's hot loop (about one JSON.stringify call per record): each line is written
 * straight into the output buffer, transcoded exactly once, and no record outlives its batch.
 */
export async function* encodeRecords(
  batches: AsyncIterable<readonly ExportRecord[]>,
  options: EncodeOptions = {},
): AsyncGenerator<Buffer> {
  const { pool } = options;
  const next = async (room: number): Promise<Buffer> =>
    pool !== undefined && room <= pool.chunkBytes
      ? pool.take()
      : Buffer.allocUnsafe(Math.max(CHUNK_BYTES, room));
  /** The buffer being filled: this generator's to hand on or give back. */
  let buf: Buffer | undefined = await next(0);
  let used = 0;
  let lastType: string | undefined;
  let lastId = '';
  try {
    for await (const records of batches) {
      for (const r of records) {
        const { type, id } = r;
        // Strictly increasing (type, id) in code-unit order.
        if (type === lastType ? id <= lastId : lastType !== undefined && type < lastType) throw outOfOrder();
        lastType = type;
        lastId = id;
        const line = nativeLine(r) ?? exactLine(r);
        const room = line.length * MAX_UTF8_PER_UNIT + 1;
        if (used + room > buf.length) {
          const full: Buffer = buf;
          buf = undefined;
          if (used > 0) yield checked(full.subarray(0, used), pool);
          else pool?.release(full);
          buf = await next(room);
          used = 0;
        }
        used += buf.write(line, used);
        buf[used++] = LF;
      }
    }
    const last: Buffer = buf;
    buf = undefined;
    if (used > 0) yield checked(last.subarray(0, used), pool);
    else pool?.release(last);
  } finally {
    // Still set only when encoding stopped before handing it on.
    if (buf !== undefined) pool?.release(buf);
  }
}
