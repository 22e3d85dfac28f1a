// PostgreSQL with a separate owner role: UPDATE, DELETE and TRUNCATE on ledger tables are revoked
// from the application role (ledger.applicationRole), on top of the append-only triggers.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestStore, PG_URL, type TestStore } from '../helpers/dialects.ts';
import { openLedgers, testEvent } from './helpers.ts';

describe('ledger privileges (postgres)', () => {
  let t: TestStore;
  const role = `custos_app_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  let schema: string;

  beforeAll(async () => {
    t = await createTestStore('postgres');
    schema = t.options.dialect === 'postgres' ? (t.options.schema ?? 'public') : 'public';
    await admin.connect();
    await admin.query(`create role ${role} login`);
    await admin.query(`grant usage on schema ${schema} to ${role}`);
    // An over-generous grant, as a careless setup would leave it.
    await admin.query(`grant all on all tables in schema ${schema} to ${role}`);
  });
  afterAll(async () => {
    await t.cleanup();
    await admin.query(`drop owned by ${role}`).catch(() => undefined);
    await admin.query(`drop role if exists ${role}`);
    await admin.end();
  });

  it('revokes UPDATE, DELETE and TRUNCATE from the application role', async () => {
    const ledgers = openLedgers(t.store, { applicationRole: role });
    await ledgers.append('system', testEvent(1));
    await ledgers.close();
    const app = new pg.Client({
      connectionString: PG_URL.replace('postgres@', `${role}@`),
      options: `-c search_path=${schema}`,
    });
    await app.connect();
    try {
      const { rows } = await app.query<{ n: string }>('select count(*) as n from ledger_entries');
      expect(Number(rows[0]?.n)).toBe(1);
      for (const stmt of [
        "update ledger_entries set entry = '\\x00'",
        'delete from ledger_entries',
        'truncate ledger_entries',
        "update ledger_checkpoints set note = 'x'",
        'delete from ledger_tiles',
        "update ledgers set origin = 'x'",
      ]) {
        await expect(app.query(stmt), stmt).rejects.toThrow(/permission denied/);
      }
      await app.query(
        "insert into ledger_timestamps (ledger_id, size, token, tsa_url, created_at) values ('system', 1, '\\x01', 'http://x', 'now')",
      );
    } finally {
      await app.end();
    }
  });
});
