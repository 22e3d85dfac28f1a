// The ledger on both dialects: durable appends with group commit, checkpoints every N entries and
// after T ms, proofs that verify, tiles, restart, append-only tables and typed bad-input errors.
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { CustosError } from '../../src/errors/index.ts';
import {
  hashLeaf,
  openCheckpoint,
  parseEntryBundle,
  parseHashTile,
  parseTlogProof,
  parseVerifierKey,
  rootOf,
  verifyConsistency,
  verifyInclusion,
  type Ledgers,
} from '../../src/ledger/index.ts';
import { registerSecret, clearSecrets } from '../../src/observe/index.ts';
import { DIALECTS, createTestStore, type TestStore } from '../helpers/dialects.ts';
import { addWorkspace, openLedgers, testEvent } from './helpers.ts';

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
    return undefined;
  } catch (err) {
    if (err instanceof CustosError) return err.code;
    throw err;
  }
}

for (const dialect of DIALECTS) {
  describe(`ledger (${dialect})`, () => {
    let t: TestStore | undefined;
    let ledgers: Ledgers | undefined;
    afterEach(async () => {
      await ledgers?.close();
      ledgers = undefined;
      await t?.cleanup();
      t = undefined;
    });

    it('appends concurrently without gaps, checkpoints every N entries, and every proof verifies', async () => {
      t = await createTestStore(dialect);
      ledgers = openLedgers(t.store, { checkpointEveryEntries: 16, maxBatchSize: 32 });
      const receipts = await Promise.all(
        Array.from({ length: 300 }, (_, i) => ledgers!.append('system', testEvent(i))),
      );
      expect(receipts.map((r) => r.index).sort((a, b) => a - b)).toEqual(
        Array.from({ length: 300 }, (_, i) => i),
      );
      const ledger = await ledgers.open('system');
      expect(await ledger.size()).toBe(300);
      const checkpoint = await ledger.checkpoint();
      expect(checkpoint.size).toBe(300);
      expect(checkpoint.origin).toBe('custos.test/system');
      expect(checkpoint.note.startsWith('custos.test/system\n300\n')).toBe(true);
      const entries = await ledgers.store.entries('system', 0, 300);
      expect(rootOf(entries.map(hashLeaf)).equals(checkpoint.root)).toBe(true);
      // Entries are the RFC 8785 bytes of the event, in the order of their receipts.
      const byIndex = new Map(receipts.map((r, i) => [r.index, i]));
      expect(JSON.parse(entries[7]!.toString('utf8'))).toEqual(testEvent(byIndex.get(7)!));
      for (let i = 0; i < 300; i += 13) {
        const p = await ledger.inclusionProof(i);
        expect(p.treeSize).toBe(300);
        verifyInclusion(i, p.treeSize, p.leafHash, p.proof, checkpoint.root);
      }
      const stored = await ledgers.store.checkpoints('system');
      expect(stored.length).toBeGreaterThan(5);
      for (const c of stored) {
        const old = openCheckpoint(c.note, ledger.verifier, ledger.origin);
        const p = await ledger.consistencyProof(old.size, 300);
        verifyConsistency(old.size, 300, p.proof, old.root, checkpoint.root);
      }
      const report = await ledgers.verify('system', {
        checkSigningKey: true,
        verifierKey: ledger.verifierKey,
      });
      expect(report).toMatchObject({ ok: true, size: 300, latestCheckpointSize: 300, pending: 0 });
      expect(report.checkpoints).toBe(stored.length);
    });

    it('serves C2SP tiles and entry bundles that match the tree', async () => {
      t = await createTestStore(dialect);
      ledgers = openLedgers(t.store, { checkpointEveryEntries: 1000, maxBatchSize: 128 });
      await Promise.all(Array.from({ length: 600 }, (_, i) => ledgers!.append('system', testEvent(i))));
      const ledger = await ledgers.open('system');
      await ledger.checkpoint();
      const leafHashes = (await ledgers.store.entries('system', 0, 600)).map(hashLeaf);
      const full0 = parseHashTile(await ledger.tile({ kind: 'hashes', level: 0, index: 1 }), 256);
      expect(Buffer.concat(full0).equals(Buffer.concat(leafHashes.slice(256, 512)))).toBe(true);
      const partial0 = parseHashTile(
        await ledger.tile({ kind: 'hashes', level: 0, index: 2, width: 88 }),
        88,
      );
      expect(partial0[87]!.equals(leafHashes[599]!)).toBe(true);
      const level1 = parseHashTile(await ledger.tile({ kind: 'hashes', level: 1, index: 0, width: 2 }), 2);
      expect(level1[1]!.equals(rootOf(leafHashes.slice(256, 512)))).toBe(true);
      const bundle = parseEntryBundle(await ledger.tile({ kind: 'entries', index: 2, width: 88 }), 88);
      expect(bundle.map(hashLeaf).every((h, i) => h.equals(leafHashes[512 + i]!))).toBe(true);
      // A narrower partial tile is a prefix; wider or full tiles beyond the checkpoint do not exist.
      expect(
        parseHashTile(await ledger.tile({ kind: 'hashes', level: 0, index: 2, width: 5 }), 5),
      ).toHaveLength(5);
      for (const ref of [
        { kind: 'hashes', level: 0, index: 2 },
        { kind: 'hashes', level: 0, index: 2, width: 89 },
        { kind: 'hashes', level: 1, index: 0 },
        { kind: 'hashes', level: 2, index: 0, width: 1 },
        { kind: 'entries', index: 3, width: 1 },
      ] as const) {
        expect(await codeOf(ledger.tile(ref)), JSON.stringify(ref)).toBe('LEDGER_TILE_NOT_FOUND');
      }
    });

    it('issues a checkpoint after the interval when entries are pending, and close() flushes', async () => {
      t = await createTestStore(dialect);
      ledgers = openLedgers(t.store, { checkpointEveryEntries: 1000, checkpointIntervalMs: 50 });
      await ledgers.append('system', testEvent(1));
      await ledgers.append('system', testEvent(2));
      // Far below checkpointEveryEntries: only the interval timer can sign this one.
      for (let i = 0; i < 200 && (await ledgers.store.latestCheckpoint('system'))?.size !== 2; i++) {
        await new Promise((r) => setTimeout(r, 25));
      }
      expect((await ledgers.store.latestCheckpoint('system'))?.size).toBe(2);
      await ledgers.append('system', testEvent(3));
      await ledgers.close();
      expect((await ledgers.store.latestCheckpoint('system'))?.size).toBe(3);
      expect(await codeOf(ledgers.append('system', testEvent(4)))).toBe('LEDGER_CLOSED');
    });

    it('continues after a restart from the stored right edge, across tile boundaries', async () => {
      t = await createTestStore(dialect);
      ledgers = openLedgers(t.store, { checkpointEveryEntries: 50 });
      await Promise.all(Array.from({ length: 250 }, (_, i) => ledgers!.append('system', testEvent(i))));
      await ledgers.close();
      ledgers = openLedgers(t.store, { checkpointEveryEntries: 50 });
      await Promise.all(Array.from({ length: 70 }, (_, i) => ledgers!.append('system', testEvent(1000 + i))));
      const ledger = await ledgers.open('system');
      const cp = await ledger.checkpoint();
      const leaves = (await ledgers.store.entries('system', 0, 320)).map(hashLeaf);
      expect(cp.root.equals(rootOf(leaves))).toBe(true);
      expect((await ledgers.verify('system')).ok).toBe(true);
      expect(await ledgers.store.allTiles('system')).toHaveLength(1);
    });

    it('prints the verifier key in signed-note form and proves inclusion as a tlog-proof', async () => {
      t = await createTestStore(dialect);
      await addWorkspace(t.store, 'acme');
      ledgers = openLedgers(t.store);
      await ledgers.append('acme', testEvent(1));
      const ledger = await ledgers.open('acme');
      const key = parseVerifierKey(ledger.verifierKey);
      expect(ledger.verifierKey).toMatch(/^custos\.test\/acme\+[0-9a-f]{8}\+[A-Za-z0-9+/]{44}$/);
      expect(key.publicKey.equals(ledger.publicKey)).toBe(true);
      const proof = parseTlogProof(await ledger.tlogProof(0));
      const cp = openCheckpoint(proof.checkpoint, key, 'custos.test/acme');
      const [entry] = await ledgers.store.entries('acme', 0, 1);
      verifyInclusion(proof.index, cp.size, hashLeaf(entry!), proof.proof, cp.root);
      // The seed is sealed, never stored in the clear.
      const row = await t.store.db
        .selectFrom('ledgers')
        .selectAll()
        .where('id', '=', 'acme')
        .executeTakeFirstOrThrow();
      expect(Buffer.from(row.sealed_seed).length).toBeGreaterThan(32);
      expect(await ledgers.ids()).toEqual(['acme']);
    });

    it('refuses UPDATE, DELETE and TRUNCATE on every ledger table', async () => {
      t = await createTestStore(dialect);
      ledgers = openLedgers(t.store, { checkpointEveryEntries: 1, tsaUrl: undefined });
      await Promise.all(Array.from({ length: 257 }, (_, i) => ledgers!.append('system', testEvent(i))));
      await ledgers.close();
      await t.store.db
        .insertInto('ledger_timestamps')
        .values({ ledger_id: 'system', size: 1, token: Buffer.of(1), tsa_url: 'http://x', created_at: 'x' })
        .execute();
      const db = t.store.db;
      const attempts: [string, () => Promise<unknown>][] = [
        [
          'update entries',
          () =>
            db
              .updateTable('ledger_entries')
              .set({ entry: Buffer.of(1) })
              .where('idx', '=', 3)
              .execute(),
        ],
        ['delete entries', () => db.deleteFrom('ledger_entries').where('idx', '=', 3).execute()],
        ['delete all entries', () => db.deleteFrom('ledger_entries').execute()],
        [
          'update tiles',
          () =>
            db
              .updateTable('ledger_tiles')
              .set({ hash: Buffer.alloc(32) })
              .execute(),
        ],
        ['delete tiles', () => db.deleteFrom('ledger_tiles').execute()],
        ['update checkpoints', () => db.updateTable('ledger_checkpoints').set({ note: 'x' }).execute()],
        ['delete checkpoints', () => db.deleteFrom('ledger_checkpoints').execute()],
        [
          'update timestamps',
          () =>
            db
              .updateTable('ledger_timestamps')
              .set({ token: Buffer.of(2) })
              .execute(),
        ],
        ['delete timestamps', () => db.deleteFrom('ledger_timestamps').execute()],
        [
          'update ledger key',
          () =>
            db
              .updateTable('ledgers')
              .set({ public_key: Buffer.alloc(32) })
              .execute(),
        ],
        ['update ledger origin', () => db.updateTable('ledgers').set({ origin: 'evil' }).execute()],
        ['delete ledger', () => db.deleteFrom('ledgers').execute()],
      ];
      if (dialect === 'postgres') {
        for (const table of [
          'ledger_entries',
          'ledger_tiles',
          'ledger_checkpoints',
          'ledger_timestamps',
          'ledgers',
        ]) {
          attempts.push([`truncate ${table}`, () => sql.raw(`truncate ${table}`).execute(db)]);
        }
      }
      for (const [what, attempt] of attempts)
        await expect(attempt(), what).rejects.toThrow(/append-only|only sealed_seed/);
      expect(await ledgers.store.size('system')).toBe(257);
      // The sealed seed alone may be rewrapped (root key rotation).
      const row = await db.selectFrom('ledgers').select('sealed_seed').executeTakeFirstOrThrow();
      await db.updateTable('ledgers').set({ sealed_seed: row.sealed_seed }).execute();
    });

    it('rejects bad events with typed errors and writes nothing', async () => {
      t = await createTestStore(dialect);
      ledgers = openLedgers(t.store);
      const bad: [unknown, string, string][] = [
        [{ ...testEvent(1), time: 'yesterday' }, 'LEDGER_EVENT_INVALID', '/time'],
        [{ ...testEvent(1), actor: { kind: 'robot', id: 'x' } }, 'LEDGER_EVENT_INVALID', '/actor/kind'],
        [{ ...testEvent(1), action: 'Bad Action' }, 'LEDGER_EVENT_INVALID', '/action'],
        [{ ...testEvent(1), outcome: 'maybe' }, 'LEDGER_EVENT_INVALID', '/outcome'],
        [{ ...testEvent(1), extra: 1 }, 'LEDGER_EVENT_INVALID', '/extra'],
        [
          { ...testEvent(1), resource: { kind: 'record', id: 'a\u0000b' } },
          'LEDGER_EVENT_INVALID',
          '/resource/id',
        ],
        [{ ...testEvent(1), details: { big: 'x'.repeat(20_000) } }, 'LEDGER_ENTRY_TOO_LARGE', '/'],
        [{ ...testEvent(1), details: { n: Number.NaN } }, 'LEDGER_EVENT_INVALID', '/details/n'],
        [{ ...testEvent(1), details: { raw: new Uint8Array(2) } }, 'LEDGER_EVENT_INVALID', '/details/raw'],
      ];
      for (const [event, code, field] of bad) {
        const err = await ledgers.append('system', event as never).catch((e: unknown) => e);
        expect(err, field).toBeInstanceOf(CustosError);
        expect((err as CustosError).code, field).toBe(code);
        expect(String((err as CustosError).details.field), field).toContain(field);
      }
      registerSecret('hunter2-very-secret');
      try {
        const err = (await ledgers
          .append('system', testEvent(1, { details: { note: 'pw hunter2-very-secret' } }))
          .catch((e: unknown) => e)) as CustosError;
        expect(err.code).toBe('LEDGER_EVENT_INVALID');
        expect(err.message).not.toContain('hunter2');
      } finally {
        clearSecrets();
      }
      // A batch with one bad event writes none of them.
      const ledger = await ledgers.open('system');
      expect(
        await codeOf(ledger.appendMany([testEvent(1), { ...testEvent(2), outcome: 'x' } as never])),
      ).toBe('LEDGER_EVENT_INVALID');
      expect(await ledger.size()).toBe(0);
    });

    it('names unknown ledgers, bad names and indexes beyond the tree', async () => {
      t = await createTestStore(dialect);
      ledgers = openLedgers(t.store);
      expect(await codeOf(ledgers.find('nope'))).toBe('LEDGER_UNKNOWN');
      expect(await codeOf(ledgers.open('nope'))).toBe('LEDGER_UNKNOWN');
      expect(await codeOf(ledgers.open('Bad Name'))).toBe('LEDGER_NAME_INVALID');
      expect(await codeOf(ledgers.find('../etc'))).toBe('LEDGER_UNKNOWN');
      await ledgers.append('system', testEvent(1));
      const ledger = await ledgers.find('system');
      expect(await codeOf(ledger.inclusionProof(1))).toBe('LEDGER_INDEX_OUT_OF_RANGE');
      expect(await codeOf(ledger.inclusionProof(-1))).toBe('LEDGER_INDEX_OUT_OF_RANGE');
      expect(await codeOf(ledger.consistencyProof(0, 2))).toBe('LEDGER_INDEX_OUT_OF_RANGE');
      expect(await codeOf(ledger.consistencyProof(2, 1))).toBe('LEDGER_INDEX_OUT_OF_RANGE');
      expect(await ledger.size()).toBe(1);
    });

    it('records external events by the caller, all or nothing', async () => {
      t = await createTestStore(dialect);
      ledgers = openLedgers(t.store);
      const actor = { kind: 'local-operator', id: 'alice' } as const;
      const ok = [
        {
          action: 'external.incident.note',
          resource: { kind: 'incident', id: 'INC-7' },
          details: { severity: 'low' },
        },
        { action: 'external.approval', resource: { kind: 'change', id: 'CHG-1' }, outcome: 'success' },
      ];
      const receipts = await ledgers.recordExternal('system', actor, ok);
      expect(receipts.map((r) => r.index)).toEqual([0, 1]);
      const [first] = await ledgers.store.entries('system', 0, 1);
      expect(JSON.parse(first!.toString('utf8'))).toMatchObject({
        actor,
        action: 'external.incident.note',
        outcome: 'success',
      });
      for (const [input, field] of [
        [{ action: 'key.kek.rotate', resource: { kind: 'x', id: 'y' } }, '[2] /action'],
        [
          { action: 'external.x', resource: { kind: 'x', id: 'y' }, actor: { kind: 'user', id: 'eve' } },
          '[2] /actor',
        ],
        [
          { action: 'external.x', resource: { kind: 'x', id: 'y' }, time: '2020-01-01T00:00:00Z' },
          '[2] /time',
        ],
      ] as const) {
        const err = (await ledgers
          .recordExternal('system', actor, [ok[0], input])
          .catch((e: unknown) => e)) as CustosError;
        expect(err.code).toBe('LEDGER_EVENT_INVALID');
        expect(err.details.field).toBe(field);
      }
      expect(await ledgers.store.size('system')).toBe(2);
    });
  });
}
