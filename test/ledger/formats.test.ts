// Round trips and hostile input for the pure formats: tile paths, hash tiles, entry bundles,
// signed notes, checkpoints and tlog-proofs. Every parser answers garbage with a typed error.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/crypto/index.ts';
import { hasControl } from '../../src/ledger/must.ts';
import { CustosError } from '../../src/errors/index.ts';
import {
  checkEvent,
  CompactRange,
  consistencyRanges,
  ed25519Signer,
  encodeEntryBundle,
  entryBytes,
  encodeHashTile,
  formatTileIndex,
  formatTlogProof,
  formatVerifierKey,
  hashLeaf,
  inclusionRanges,
  openCheckpoint,
  openNote,
  parseCheckpoint,
  parseEntryBundle,
  parseHashTile,
  parseNote,
  parseTilePath,
  parseTlogProof,
  parseVerifierKey,
  rootFromInclusionProof,
  rootOf,
  signCheckpoint,
  tilePath,
  verifyConsistency,
  type TileRef,
} from '../../src/ledger/index.ts';

const LEDGER_CODE = /^LEDGER_/;

function typedOrOk(fn: () => unknown): void {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(CustosError);
    expect((err as CustosError).code).toMatch(LEDGER_CODE);
  }
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    if (err instanceof CustosError) return err.code;
    throw err;
  }
}

const seed = Buffer.alloc(32, 3);
const signer = ed25519Signer('example.org/custos/system', seed);
const verifier = parseVerifierKey(formatVerifierKey(signer.name, signer.publicKey));

describe('tile paths', () => {
  it('format and parse round-trip (property)', () => {
    const ref: fc.Arbitrary<TileRef> = fc.oneof(
      fc.record({
        kind: fc.constant('hashes' as const),
        level: fc.integer({ min: 0, max: 63 }),
        index: fc.maxSafeNat(),
      }),
      fc.record({
        kind: fc.constant('hashes' as const),
        level: fc.integer({ min: 0, max: 63 }),
        index: fc.maxSafeNat(),
        width: fc.integer({ min: 1, max: 255 }),
      }),
      fc.record({
        kind: fc.constant('entries' as const),
        index: fc.maxSafeNat(),
        width: fc.integer({ min: 1, max: 255 }),
      }),
      fc.record({ kind: fc.constant('entries' as const), index: fc.maxSafeNat() }),
    );
    fc.assert(
      fc.property(ref, (r) => {
        expect(parseTilePath(tilePath(r))).toEqual(r);
      }),
    );
  });

  it('answers any other string with LEDGER_TILE_PATH_INVALID (property)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), (s) => {
        typedOrOk(() => parseTilePath(s));
        typedOrOk(() => parseTilePath(`tile/${s}`));
      }),
    );
    for (const bad of [
      'tile/0/1',
      'tile/00/001',
      'tile/0/001.p/0',
      'tile/0/001.p/256',
      'tile/0/001.p/007',
      'tile/0/x000/001',
      'tile/0/001/',
      'tile/entries/001.p/',
      'tile/64/000',
      'tile/-1/000',
      'tile/0/x1234/000',
    ]) {
      expect(
        codeOf(() => parseTilePath(bad)),
        bad,
      ).toBe('LEDGER_TILE_PATH_INVALID');
    }
    expect(formatTileIndex(0)).toBe('000');
    expect(formatTileIndex(1000)).toBe('x001/000');
  });
});

describe('tiles and entry bundles', () => {
  it('round-trip and reject truncated or wrong-width bodies (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 300 }), { minLength: 1, maxLength: 40 }),
        fc.nat({ max: 10_000 }),
        (entries, cut) => {
          const bundle = encodeEntryBundle(entries);
          expect(parseEntryBundle(bundle, entries.length).map((e) => Buffer.from(e))).toEqual(
            entries.map((e) => Buffer.from(e)),
          );
          const truncated = bundle.subarray(0, cut % bundle.length);
          expect(codeOf(() => parseEntryBundle(truncated, entries.length))).toBe(
            'LEDGER_ENTRY_BUNDLE_MALFORMED',
          );
          expect(codeOf(() => parseEntryBundle(bundle, entries.length + 1))).toBe(
            'LEDGER_ENTRY_BUNDLE_MALFORMED',
          );
          if (entries.length > 1)
            expect(codeOf(() => parseEntryBundle(bundle, entries.length - 1))).toBe(
              'LEDGER_ENTRY_BUNDLE_MALFORMED',
            );
          const hashes = entries.map((e) => hashLeaf(e));
          const tile = encodeHashTile(hashes);
          expect(parseHashTile(tile, hashes.length)).toEqual(hashes);
          expect(codeOf(() => parseHashTile(tile.subarray(0, tile.length - 1), hashes.length))).toBe(
            'LEDGER_TILE_MALFORMED',
          );
          expect(codeOf(() => parseHashTile(tile, hashes.length + 1))).toBe('LEDGER_TILE_MALFORMED');
        },
      ),
      { numRuns: 50 },
    );
    expect(codeOf(() => parseHashTile(Buffer.alloc(0), 0))).toBe('LEDGER_TILE_MALFORMED');
    expect(() => encodeEntryBundle([Buffer.alloc(65536)])).toThrow(RangeError);
  });
});

describe('signed notes and checkpoints', () => {
  it('sign and open round-trip; any single byte change is refused (property)', () => {
    fc.assert(
      fc.property(
        fc.nat(),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        (size, root, at, x) => {
          const c = signCheckpoint(
            { origin: signer.name, size, root: Buffer.from(root), extensions: [] },
            signer,
          );
          const opened = openCheckpoint(c.note, verifier, signer.name);
          expect(opened.size).toBe(size);
          expect(opened.root.equals(Buffer.from(root))).toBe(true);
          const bytes = Buffer.from(c.note, 'utf8');
          bytes[at % bytes.length] = (bytes[at % bytes.length] ?? 0) ^ x;
          expect(codeOf(() => openCheckpoint(bytes.toString('utf8'), verifier, signer.name))).toMatch(
            /^LEDGER_CHECKPOINT_/,
          );
        },
      ),
      { numRuns: 200 },
    );
  });

  it('refuses checkpoints of another key, another origin, or malformed text', () => {
    const other = ed25519Signer(signer.name, Buffer.alloc(32, 4));
    const c = signCheckpoint({ origin: signer.name, size: 3, root: Buffer.alloc(32), extensions: [] }, other);
    expect(codeOf(() => openCheckpoint(c.note, verifier))).toBe('LEDGER_CHECKPOINT_SIGNATURE_INVALID');
    const elsewhere = signCheckpoint(
      { origin: 'example.org/other', size: 3, root: Buffer.alloc(32), extensions: [] },
      signer,
    );
    expect(codeOf(() => openCheckpoint(elsewhere.note, verifier, signer.name))).toBe(
      'LEDGER_CHECKPOINT_ORIGIN_MISMATCH',
    );
    for (const text of [
      '',
      'a\n',
      'a\n1\n',
      'a\n01\nAAAA\n',
      'a\n1\nAAAA\n',
      'a\n-1\n' + 'A'.repeat(43) + '=\n',
      'a\n1\n' + 'A'.repeat(43) + '=\n\n',
      `a\n1\n${'A'.repeat(43)}=`,
    ]) {
      expect(
        codeOf(() => parseCheckpoint(text)),
        JSON.stringify(text),
      ).toBe('LEDGER_CHECKPOINT_MALFORMED');
    }
    expect(codeOf(() => openCheckpoint('x'.repeat(70_000), verifier))).toBe('LEDGER_CHECKPOINT_MALFORMED');
    expect(codeOf(() => openCheckpoint('no signatures here\n', verifier))).toBe(
      'LEDGER_CHECKPOINT_MALFORMED',
    );
  });

  it('parses arbitrary text into a typed error or a note (property)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (s) => {
        typedOrOk(() => parseNote(s));
        typedOrOk(() => openNote(s, [verifier]));
        typedOrOk(() => parseCheckpoint(s));
        typedOrOk(() => parseTlogProof(s));
        typedOrOk(() => parseVerifierKey(s));
      }),
      { numRuns: 500 },
    );
  });

  it('tlog-proof files round-trip (property)', () => {
    fc.assert(
      fc.property(
        fc.maxSafeNat(),
        fc.array(fc.uint8Array({ minLength: 32, maxLength: 32 }), { maxLength: 20 }),
        fc.option(fc.uint8Array({ maxLength: 64 })),
        (index, proof, extra) => {
          const checkpoint = signCheckpoint(
            { origin: signer.name, size: 1, root: Buffer.alloc(32), extensions: [] },
            signer,
          ).note;
          const p = {
            index,
            proof: proof.map((h) => Buffer.from(h)),
            checkpoint,
            ...(extra === null ? {} : { extra: Buffer.from(extra) }),
          };
          expect(parseTlogProof(formatTlogProof(p))).toEqual(p);
        },
      ),
    );
  });
});

describe('event entries', () => {
  it('the fast entry layout is exactly RFC 8785 canonical JSON (property)', () => {
    const text = fc.string({ minLength: 1, maxLength: 40, unit: 'grapheme' }).filter((t) => !hasControl(t));
    const json = fc.jsonValue({ maxDepth: 3 });
    const event = fc.record(
      {
        time: fc.constantFrom('2025-01-02T03:04:05Z', '2025-01-02T03:04:05.678Z'),
        actor: fc.record({
          kind: fc.constantFrom('user', 'service', 'token', 'local-operator', 'system'),
          id: text,
        }),
        action: fc.constantFrom('record.read', 'key.kek.rotate', 'external.x-y.z'),
        resource: fc.record({ kind: fc.constantFrom('record', 'kek-version', 'a.b_c-d'), id: text }),
        outcome: fc.constantFrom('success', 'failure', 'denied'),
        purpose: text,
        correlationId: fc.stringMatching(/^[A-Za-z0-9._:/@-]{1,20}$/),
        details: fc.dictionary(fc.string({ maxLength: 8 }), json, { maxKeys: 5 }),
      },
      { requiredKeys: ['time', 'actor', 'action', 'resource', 'outcome'] },
    );
    fc.assert(
      fc.property(event, (e) => {
        const checked = checkEvent(JSON.parse(JSON.stringify(e)));
        expect(entryBytes(checked).toString('utf8')).toBe(canonicalJson(checked));
      }),
      { numRuns: 500 },
    );
  });
});

describe('tree and proofs', () => {
  it('compact range roots equal MTH, and generated proofs verify (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 300 }), fc.nat(), fc.nat(), (size, a, b) => {
        const leaves = Array.from({ length: size }, (_, i) => hashLeaf(Buffer.from(`leaf ${i}`)));
        const range = new CompactRange();
        leaves.forEach((l) => {
          range.push(l);
        });
        const root = rootOf(leaves);
        expect(range.root().equals(root)).toBe(true);
        const index = a % size;
        const path = inclusionRanges(index, size).map((r) => rootOf(leaves.slice(r.lo, r.hi)));
        expect(rootFromInclusionProof(index, size, leaves[index]!, path).equals(root)).toBe(true);
        const from = b % (size + 1);
        const cons = consistencyRanges(from, size).map((r) => rootOf(leaves.slice(r.lo, r.hi)));
        verifyConsistency(from, size, cons, rootOf(leaves.slice(0, from)), root);
      }),
      { numRuns: 100 },
    );
  });
});
