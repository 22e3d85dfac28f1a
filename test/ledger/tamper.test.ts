// Property tests: random batches appended to a ledger, then every inclusion and consistency proof
// verifies; and one change by someone with the database's rights (a byte of an entry, leaf hash,
// tile hash or checkpoint, a deleted row, two swapped rows) is detected and named by verify.
import fc from 'fast-check';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  hashLeaf,
  rootOf,
  verifyConsistency,
  verifyInclusion,
  type Ledgers,
} from '../../src/ledger/index.ts';
import { DIALECTS, createTestStore, type TestStore } from '../helpers/dialects.ts';
import { addWorkspace, dropAppendOnlyGuards, openLedgers, testEvent } from './helpers.ts';

type Mutation =
  | { kind: 'entryByte'; at: number; byte: number; xor: number }
  | { kind: 'leafHashByte'; at: number; byte: number; xor: number }
  | { kind: 'tileHashByte'; at: number; byte: number; xor: number }
  | { kind: 'checkpointByte'; at: number; byte: number; xor: number }
  | { kind: 'deleteEntry'; at: number }
  | { kind: 'deleteTile'; at: number }
  | { kind: 'swapEntries'; at: number; other: number };

const position = fc.nat({ max: 1_000_000 });
const xor = fc.integer({ min: 1, max: 255 });
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('entryByte' as const), at: position, byte: position, xor }),
  fc.record({ kind: fc.constant('leafHashByte' as const), at: position, byte: position, xor }),
  fc.record({ kind: fc.constant('tileHashByte' as const), at: position, byte: position, xor }),
  fc.record({ kind: fc.constant('checkpointByte' as const), at: position, byte: position, xor }),
  fc.record({ kind: fc.constant('deleteEntry' as const), at: position }),
  fc.record({ kind: fc.constant('deleteTile' as const), at: position }),
  fc.record({ kind: fc.constant('swapEntries' as const), at: position, other: position }),
);
const batches = fc.array(fc.integer({ min: 1, max: 90 }), { minLength: 1, maxLength: 8 });

function flip(bytes: Uint8Array, byte: number, x: number): Buffer {
  const out = Buffer.from(bytes);
  const i = byte % out.length;
  out[i] = (out[i] ?? 0) ^ x;
  return out;
}

/**
 * flip() for a text column: a changed byte never becomes NUL, which PostgreSQL's text type cannot
 * hold (so neither can an attacker's edit of it).
 */
function flipText(bytes: Uint8Array, byte: number, x: number): Buffer {
  const original = bytes[byte % bytes.length] ?? 0;
  const safe = x !== original ? x : (x ^ 0x01) === 0 ? 0x02 : x ^ 0x01;
  return flip(bytes, byte, safe);
}

for (const dialect of DIALECTS) {
  describe(`ledger tamper evidence (${dialect})`, () => {
    let t: TestStore;
    let ledgers: Ledgers;
    let run = 0;
    beforeAll(async () => {
      t = await createTestStore(dialect);
      ledgers = openLedgers(t.store, { checkpointEveryEntries: 40, maxBatchSize: 50 });
    });
    afterAll(async () => {
      await ledgers.close();
      await t.cleanup();
    });

    /** A fresh ledger filled by concurrent batches; returns its name and size. */
    async function fill(sizes: readonly number[]): Promise<{ name: string; size: number }> {
      const name = `w${++run}`;
      await addWorkspace(t.store, name);
      let n = 0;
      for (const size of sizes) {
        await Promise.all(Array.from({ length: size }, () => ledgers.append(name, testEvent(n++))));
      }
      await (await ledgers.open(name)).checkpoint();
      return { name, size: n };
    }

    it('every inclusion and consistency proof verifies after random batches', async () => {
      await fc.assert(
        fc.asyncProperty(
          batches,
          fc.array(fc.tuple(position, position), { minLength: 3, maxLength: 6 }),
          async (sizes, picks) => {
            const { name, size } = await fill(sizes);
            const ledger = await ledgers.open(name);
            const leaves = (await ledgers.store.entries(name, 0, size)).map(hashLeaf);
            const latest = await ledger.checkpoint();
            expect(latest.root.equals(rootOf(leaves))).toBe(true);
            for (const [a, b] of picks) {
              const index = a % size;
              const p = await ledger.inclusionProof(index);
              verifyInclusion(index, p.treeSize, leaves[index]!, p.proof, latest.root);
              const from = Math.min(a, b) % (size + 1);
              const c = await ledger.consistencyProof(from, size);
              expect(c.fromRoot.equals(rootOf(leaves.slice(0, from)))).toBe(true);
              verifyConsistency(from, size, c.proof, c.fromRoot, latest.root);
            }
          },
        ),
        { numRuns: 6 },
      );
    });

    it('detects and names any single change to entries, hashes, tiles or checkpoints', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.integer({ min: 20, max: 140 }), { minLength: 1, maxLength: 4 }),
          mutation,
          async (sizes, m) => {
            const { name, size } = await fill(sizes);
            expect((await ledgers.verify(name)).ok).toBe(true);
            await dropAppendOnlyGuards(t.store);
            const db = t.store.db;
            const expectation = await (async (): Promise<
              { codes: string[]; named: Record<string, unknown> } | undefined
            > => {
              switch (m.kind) {
                case 'entryByte':
                case 'leafHashByte': {
                  const idx = m.at % size;
                  const row = await db
                    .selectFrom('ledger_entries')
                    .selectAll()
                    .where('ledger_id', '=', name)
                    .where('idx', '=', idx)
                    .executeTakeFirstOrThrow();
                  const set =
                    m.kind === 'entryByte'
                      ? { entry: flip(row.entry, m.byte, m.xor) }
                      : { leaf_hash: flip(row.leaf_hash, m.byte, m.xor) };
                  await db
                    .updateTable('ledger_entries')
                    .set(set)
                    .where('ledger_id', '=', name)
                    .where('idx', '=', idx)
                    .execute();
                  return { codes: ['LEDGER_ENTRY_HASH_MISMATCH'], named: { index: idx } };
                }
                case 'tileHashByte':
                case 'deleteTile': {
                  const tiles = await db
                    .selectFrom('ledger_tiles')
                    .selectAll()
                    .where('ledger_id', '=', name)
                    .execute();
                  const tile = tiles[m.at % Math.max(tiles.length, 1)];
                  if (tile === undefined) return undefined;
                  const where = db
                    .updateTable('ledger_tiles')
                    .where('ledger_id', '=', name)
                    .where('level', '=', tile.level)
                    .where('idx', '=', tile.idx);
                  if (m.kind === 'tileHashByte')
                    await where.set({ hash: flip(tile.hash, m.byte, m.xor) }).execute();
                  else
                    await db
                      .deleteFrom('ledger_tiles')
                      .where('ledger_id', '=', name)
                      .where('level', '=', tile.level)
                      .where('idx', '=', tile.idx)
                      .execute();
                  return {
                    codes: ['LEDGER_TILE_HASH_MISMATCH'],
                    named: { tile: `${tile.level}/${tile.idx}` },
                  };
                }
                case 'checkpointByte': {
                  const cps = await db
                    .selectFrom('ledger_checkpoints')
                    .selectAll()
                    .where('ledger_id', '=', name)
                    .execute();
                  const cp = cps[m.at % cps.length]!;
                  const note = flipText(Buffer.from(cp.note, 'utf8'), m.byte, m.xor).toString('utf8');
                  await db
                    .updateTable('ledger_checkpoints')
                    .set({ note })
                    .where('ledger_id', '=', name)
                    .where('size', '=', cp.size)
                    .execute();
                  return {
                    codes: [
                      'LEDGER_CHECKPOINT_SIGNATURE_INVALID',
                      'LEDGER_CHECKPOINT_MALFORMED',
                      'LEDGER_CHECKPOINT_ORIGIN_MISMATCH',
                    ],
                    named: { checkpointSize: cp.size },
                  };
                }
                case 'deleteEntry': {
                  const idx = m.at % size;
                  await db
                    .deleteFrom('ledger_entries')
                    .where('ledger_id', '=', name)
                    .where('idx', '=', idx)
                    .execute();
                  return { codes: ['LEDGER_GAP'], named: { index: idx } };
                }
                case 'swapEntries': {
                  const a = m.at % size;
                  const b = m.other % size;
                  if (a === b) return undefined;
                  const swap = async (from: number, to: number) =>
                    sql`update ledger_entries set idx = ${to} where ledger_id = ${name} and idx = ${from}`.execute(
                      db,
                    );
                  await swap(a, -1);
                  await swap(b, a);
                  await swap(-1, b);
                  return {
                    codes: ['LEDGER_TILE_HASH_MISMATCH', 'LEDGER_CHECKPOINT_ROOT_MISMATCH'],
                    named: {},
                  };
                }
              }
            })();
            if (expectation === undefined) return;
            const report = await ledgers.verify(name);
            expect(report.ok, JSON.stringify(m)).toBe(false);
            expect(expectation.codes, JSON.stringify(report.failure)).toContain(report.failure?.code);
            expect(report.failure?.details).toMatchObject(expectation.named);
            if (m.kind === 'swapEntries') {
              // A swap is named by the tile or checkpoint whose root no longer matches.
              const d = report.failure?.details ?? {};
              expect(typeof d.tile === 'string' || typeof d.checkpointSize === 'number').toBe(true);
            }
          },
        ),
        { numRuns: 30 },
      );
    });

    it('names a checkpoint row deleted between others, whichever it was', async () => {
      for (const pick of [0, 1, 2]) {
        const { name } = await fill([45, 45, 45, 45]);
        const sizes = (
          await t.store.db
            .selectFrom('ledger_checkpoints')
            .select('size')
            .where('ledger_id', '=', name)
            .orderBy('size')
            .execute()
        ).map((r) => r.size);
        expect(sizes.length).toBeGreaterThan(3);
        const victim = sizes[pick] ?? -1;
        await dropAppendOnlyGuards(t.store);
        await t.store.db
          .deleteFrom('ledger_checkpoints')
          .where('ledger_id', '=', name)
          .where('size', '=', victim)
          .execute();
        const report = await ledgers.verify(name);
        expect(report.ok).toBe(false);
        expect(report.failure).toMatchObject({
          code: 'LEDGER_CHECKPOINT_MISSING',
          details: { checkpointSize: victim, field: `checkpoint ${victim}` },
        });
      }
    });

    it('a ledger whose checkpoints were all removed fails verification', async () => {
      const { name } = await fill([30]);
      await dropAppendOnlyGuards(t.store);
      await t.store.db.deleteFrom('ledger_checkpoints').where('ledger_id', '=', name).execute();
      const report = await ledgers.verify(name);
      expect(report.failure?.code).toBe('LEDGER_CHECKPOINT_MISSING');
    });
  });
}
