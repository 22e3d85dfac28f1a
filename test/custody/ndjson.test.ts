import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/crypto/index.ts';
import { isCustosError } from '../../src/errors/index.ts';
import { ChunkPool } from '../../src/custody/io/chunk-pool.ts';
import {
  createPayloadPool,
  encodeLine,
  encodeRecords,
  fastCanonical,
  type ExportRecord,
} from '../../src/custody/bundle/ndjson.ts';
import { parseBagInfo, parseBagitTxt } from '../../src/custody/bagit/tag-files.ts';
import { parseManifest } from '../../src/custody/bagit/manifest.ts';
import { bytesSource } from '../../src/custody/io/byte-reader.ts';
import { readTar } from '../../src/custody/tar/reader.ts';
import { parseLedgerProof } from '../../src/custody/bundle/ledger-proof.ts';
import { parseStatement } from '../../src/custody/intoto/statement.ts';

function outcome(f: () => string): string {
  try {
    return f();
  } catch (err) {
    return isCustosError(err) ? `error ${err.code}` : 'other error';
  }
}

describe('RFC 8785 fast path', () => {
  it('gives exactly crypto canonicalJson output for any JSON value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        expect(fastCanonical(v)).toBe(canonicalJson(v));
      }),
      { numRuns: 2000 },
    );
  });

  it('matches on the hard cases: integer-like keys, unsorted and nested keys, -0, exponents, undefined members', () => {
    const cases: unknown[] = [
      { 10: 'a', 9: 'b', a: 1 },
      { b: 1, a: { d: [{ z: 1, y: 2 }], c: 3 } },
      { '\u00e9': 1, e: 2, '\u{1F600}': 3, '\uFB33': 4 },
      [-0, 1e21, 1e-7, 0.1 + 0.2, -1.5e-300, 2 ** 53],
      { a: undefined, b: null },
      'line\u2028sep\u0000nul"quote\\',
    ];
    for (const c of cases) expect(fastCanonical(c)).toBe(canonicalJson(c));
  });

  it('refuses what RFC 8785 refuses, with the same error', () => {
    for (const bad of [
      { s: 'lone \uD800' },
      { n: Number.NaN },
      { n: Infinity },
      { d: new Date(0) },
      { ['\uDC00']: 1 },
    ]) {
      expect(outcome(() => fastCanonical(bad))).toBe(outcome(() => canonicalJson(bad)));
      expect(outcome(() => fastCanonical(bad))).toBe('error CRYPTO_CANONICAL_JSON_INVALID');
    }
  });

  it('writes one canonical line per record, in (type, id) order', async () => {
    const recs: ExportRecord[] = [
      { type: 'a', id: '1', data: { y: 1, x: 'é' } },
      { type: 'a', id: '2', data: {} },
      { type: 'b', id: '0', data: { k: [1, { b: 2, a: 1 }] } },
    ];
    expect(encodeLine(recs[0]!)).toBe('{"data":{"x":"é","y":1},"id":"1","type":"a"}\n');
    const out: Buffer[] = [];
    async function* batches(): AsyncGenerator<ExportRecord[]> {
      yield await Promise.resolve(recs);
    }
    for await (const b of encodeRecords(batches())) out.push(b);
    expect(Buffer.concat(out).toString()).toBe(recs.map((r) => canonicalJson(r) + '\n').join(''));
  });
});

describe('payload buffers', () => {
  /** The payload, encoded once into fresh buffers and once through a small chunk pool: both must agree. */
  async function encodeAll(recs: readonly ExportRecord[], batch = 7): Promise<string> {
    async function* batches(): AsyncGenerator<ExportRecord[]> {
      for (let i = 0; i < recs.length; i += batch) yield await Promise.resolve(recs.slice(i, i + batch));
    }
    const out: Buffer[] = [];
    for await (const b of encodeRecords(batches())) out.push(b);
    const pool = new ChunkPool(2, 256);
    const pooled: Buffer[] = [];
    try {
      for await (const b of encodeRecords(batches(), { pool })) {
        pooled.push(Buffer.from(b));
        pool.release(b);
      }
    } finally {
      // Whatever happened, no chunk is left held.
      expect(pool.freeCount).toBe(2);
    }
    const text = Buffer.concat(out).toString('utf8');
    expect(Buffer.concat(pooled).toString('utf8')).toBe(text);
    return text;
  }

  /** The payload by definition: each record's RFC 8785 text and an LF, or the error that refuses it. */
  function expected(recs: readonly ExportRecord[]): string {
    return recs.map((r) => `${canonicalJson(r)}\n`).join('');
  }

  async function outcomeOf(f: () => Promise<string>): Promise<string> {
    try {
      return await f();
    } catch (err) {
      return isCustosError(err) ? `error ${err.code}` : 'other error';
    }
  }

  it('are exactly the canonical lines for any records (strings with any code units, any key order)', async () => {
    const data = fc.dictionary(
      fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.constantFrom('10', '9', '__proto__')),
      fc.oneof(fc.jsonValue(), fc.string({ unit: 'binary' })),
      { maxKeys: 6 },
    );
    await fc.assert(
      fc.asyncProperty(fc.array(data, { maxLength: 20 }), async (datas) => {
        const recs = datas.map((d, i) => ({
          type: 't',
          id: String(i).padStart(3, '0'),
          data: d as ExportRecord['data'],
        }));
        const want = (() => {
          try {
            return expected(recs);
          } catch (err) {
            return isCustosError(err) ? `error ${err.code}` : 'other error';
          }
        })();
        expect(await outcomeOf(() => encodeAll(recs))).toBe(want);
      }),
      { numRuns: 500 },
    );
  });

  it('take the exact path for text that only looks like an escaped lone surrogate', async () => {
    const recs: ExportRecord[] = [
      { type: 'a', id: '1', data: { path: 'C:\\ud800\\x', ok: 'plain' } },
      { type: 'a', id: '2', data: { s: '\\\\udfff', pair: '\u{1F600}' } },
      { type: 'a', id: '3', data: { n: 1 } },
    ];
    expect(await encodeAll(recs, 1)).toBe(expected(recs));
    const lone: ExportRecord[] = [...recs, { type: 'a', id: '4', data: { s: 'x\uD800' } }];
    expect(await outcomeOf(() => encodeAll(lone))).toBe('error CRYPTO_CANONICAL_JSON_INVALID');
  });

  /** `count` records of about 190 bytes, record 5000 a line of 1.4 MB, in one batch. */
  function withOneLongLine(count: number): {
    recs: ExportRecord[];
    one: () => AsyncGenerator<ExportRecord[]>;
  } {
    const big = 'é'.repeat(700_000);
    const recs = Array.from({ length: count }, (_, i): ExportRecord => ({
      type: 'x',
      id: String(i).padStart(6, '0'),
      data: i === 5000 ? { big } : { note: 'n'.repeat(150), i },
    }));
    async function* one(): AsyncGenerator<ExportRecord[]> {
      yield await Promise.resolve(recs);
    }
    return { recs, one };
  }

  it('split into buffers of about 1 MiB, a longer line in a buffer of its own', async () => {
    const { recs, one } = withOneLongLine(12_000);
    const sizes: number[] = [];
    const out: Buffer[] = [];
    for await (const b of encodeRecords(one())) {
      sizes.push(b.length);
      out.push(b);
    }
    expect(Buffer.concat(out).toString('utf8')).toBe(expected(recs));
    expect(sizes.some((n) => n > 1_400_000)).toBe(true);
    expect(sizes.slice(0, -1).every((n) => n > 200_000)).toBe(true);
  });

  it("fill the export's pool chunks, the longer line in a buffer of its own, every chunk back once released", async () => {
    const { recs, one } = withOneLongLine(120_000);
    const pool = createPayloadPool();
    const chunks = pool.freeCount;
    const out: Buffer[] = [];
    const owned: boolean[] = [];
    for await (const b of encodeRecords(one(), { pool })) {
      owned.push(pool.owns(b));
      out.push(Buffer.from(b));
      pool.release(b);
    }
    expect(Buffer.concat(out).toString('utf8')).toBe(expected(recs));
    expect(owned.filter((o) => !o)).toHaveLength(1);
    expect(owned.length).toBeGreaterThan(chunks);
    expect(pool.freeCount).toBe(chunks);
  });

  it('give back the chunk being filled when the consumer stops early', async () => {
    const recs = Array.from({ length: 4000 }, (_, i): ExportRecord => ({
      type: 'x',
      id: String(i).padStart(6, '0'),
      data: { note: 'n'.repeat(300) },
    }));
    async function* one(): AsyncGenerator<ExportRecord[]> {
      yield await Promise.resolve(recs);
    }
    const pool = new ChunkPool(3, 64 * 1024);
    for await (const b of encodeRecords(one(), { pool })) {
      pool.release(b);
      break;
    }
    expect(pool.freeCount).toBe(3);
  });
});

describe('parsers of hostile input only ever fail with a typed error', () => {
  const parsers: [string, (b: Uint8Array) => unknown][] = [
    ['bagit.txt', (b) => parseBagitTxt(b)],
    ['bag-info.txt', (b) => parseBagInfo(b, 8192)],
    ['manifest', (b) => parseManifest('manifest-sha256.txt', b, 'sha256', 'payload', 8192)],
    ['ledger proof', (b) => parseLedgerProof(b)],
    ['statement', (b) => parseStatement(b)],
  ];
  for (const [name, parse] of parsers) {
    it(name, () => {
      fc.assert(
        fc.property(
          fc.oneof(
            fc.uint8Array({ maxLength: 300 }),
            fc.string({ maxLength: 300 }).map((s) => Buffer.from(s)),
          ),
          (bytes) => {
            try {
              parse(bytes);
            } catch (err) {
              expect(isCustosError(err)).toBe(true);
            }
          },
        ),
        { numRuns: 300 },
      );
    });
  }

  it('tar reader', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 0, maxLength: 3000 }), async (bytes) => {
        try {
          for await (const e of readTar(bytesSource(bytes))) await e.readAll(1 << 20);
        } catch (err) {
          expect(isCustosError(err)).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });
});
