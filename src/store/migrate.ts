// Applies pending migrations in order, each in its own transaction, recording them by name.
// PostgreSQL takes an advisory lock so concurrent starters migrate once.
import { sql, type Kysely } from 'kysely';
import { CustosError } from '../errors/index.ts';
import { MIGRATIONS } from './migrations/index.ts';
import type { Store } from './open.ts';

const LOCK_ID = 0x637573746f73; // "custos"

/** Bring the schema up to date. Throws STORE_MIGRATION_FAILED naming the migration. */
export async function migrate(store: Store): Promise<string[]> {
  const db = store.db as unknown as Kysely<Record<string, never>>;
  await sql`create table if not exists custos_migrations (name text primary key, applied_at text not null)`.execute(
    db,
  );
  const applied: string[] = [];
  for (const m of MIGRATIONS) {
    try {
      await db.transaction().execute(async (trx) => {
        if (store.dialect === 'postgres') await sql`select pg_advisory_xact_lock(${LOCK_ID})`.execute(trx);
        const done = await sql<{
          name: string;
        }>`select name from custos_migrations where name = ${m.name}`.execute(trx);
        if (done.rows.length > 0) return;
        await m.up(trx as unknown as Kysely<unknown>, store.dialect);
        await sql`insert into custos_migrations (name, applied_at) values (${m.name}, ${new Date().toISOString()})`.execute(
          trx,
        );
        applied.push(m.name);
      });
    } catch (cause) {
      throw new CustosError('STORE_MIGRATION_FAILED', `Migration ${m.name} failed`, {
        cause,
        details: { field: 'migration', rule: m.name },
      });
    }
  }
  return applied;
}
