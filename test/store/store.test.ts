import { afterEach, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { DIALECTS, createTestStore, type TestStore } from '../helpers/dialects.ts';
import { migrate, MIGRATIONS } from '../../src/store/index.ts';

for (const dialect of DIALECTS) {
  describe(`store (${dialect})`, () => {
    let t: TestStore | undefined;
    afterEach(async () => {
      await t?.cleanup();
      t = undefined;
    });

    it('applies every migration once and is idempotent', async () => {
      t = await createTestStore(dialect);
      const again = await migrate(t.store);
      expect(again).toEqual([]);
      const rows = await sql<{ name: string }>`select name from custos_migrations order by name`.execute(
        t.store.db,
      );
      expect(rows.rows.map((r) => r.name)).toEqual(MIGRATIONS.map((m) => m.name));
    });

    it('round-trips binary columns and rolls back failed transactions', async () => {
      t = await createTestStore(dialect);
      const { db } = t.store;
      const now = new Date().toISOString();
      await db.insertInto('workspaces').values({ id: 'w', name: 'w', created_at: now }).execute();
      const bytes = new Uint8Array([0, 1, 2, 255]);
      await expect(
        db.transaction().execute(async (trx) => {
          await trx
            .insertInto('workspace_secrets')
            .values({ workspace_id: 'w', purpose: 'p', wrapped: bytes, created_at: now })
            .execute();
          throw new Error('boom');
        }),
      ).rejects.toThrow('boom');
      expect(await db.selectFrom('workspace_secrets').selectAll().execute()).toEqual([]);
      await db
        .insertInto('workspace_secrets')
        .values({ workspace_id: 'w', purpose: 'p', wrapped: bytes, created_at: now })
        .execute();
      const row = await db.selectFrom('workspace_secrets').selectAll().executeTakeFirstOrThrow();
      expect(Buffer.from(row.wrapped)).toEqual(Buffer.from(bytes));
    });

    it('enforces foreign keys', async () => {
      t = await createTestStore(dialect);
      await expect(
        t.store.db
          .insertInto('kek_versions')
          .values({ workspace_id: 'missing', version: 1, state: 'active', wrapped: null, created_at: 'x' })
          .execute(),
      ).rejects.toThrow();
    });
  });
}
