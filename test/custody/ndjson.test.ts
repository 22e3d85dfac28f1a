import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/crypto/index.ts';
import { isCustosError } from '../../src/errors/index.ts';
import {
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
