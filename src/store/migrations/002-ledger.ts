// Ledger tables: ledgers and their sealed keys, entries with leaf hashes, full-tile hashes, signed
// checkpoints and RFC 3161 tokens. All are append-only at the database: UPDATE, DELETE (and on
// PostgreSQL TRUNCATE) fail in triggers; only a ledger's sealed seed may be rewrapped.
import { sql, type Kysely } from 'kysely';
import { blobType, type DialectName, type StoreMigration } from './types.ts';

/** The ledger tables whose rows can never change or disappear. */
export const APPEND_ONLY_LEDGER_TABLES = [
  'ledger_entries',
  'ledger_tiles',
  'ledger_checkpoints',
  'ledger_timestamps',
] as const;

async function createTables(db: Kysely<unknown>, dialect: DialectName): Promise<void> {
  const blob = blobType(dialect);
  const withoutRowid = dialect === 'sqlite' ? sql`without rowid` : sql``;
  await db.schema
    .createTable('ledgers')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('origin', 'text', (c) => c.notNull())
    .addColumn('key_name', 'text', (c) => c.notNull())
    .addColumn('public_key', blob, (c) => c.notNull())
    .addColumn('sealed_seed', blob, (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('ledger_entries')
    .addColumn('ledger_id', 'text', (c) => c.notNull())
    .addColumn('idx', 'bigint', (c) => c.notNull())
    .addColumn('entry', blob, (c) => c.notNull())
    .addColumn('leaf_hash', blob, (c) => c.notNull())
    .addPrimaryKeyConstraint('ledger_entries_pk', ['ledger_id', 'idx'])
    .modifyEnd(withoutRowid)
    .execute();
  await db.schema
    .createTable('ledger_tiles')
    .addColumn('ledger_id', 'text', (c) => c.notNull())
    .addColumn('level', 'integer', (c) => c.notNull())
    .addColumn('idx', 'bigint', (c) => c.notNull())
    .addColumn('hash', blob, (c) => c.notNull())
    .addPrimaryKeyConstraint('ledger_tiles_pk', ['ledger_id', 'level', 'idx'])
    .modifyEnd(withoutRowid)
    .execute();
  await db.schema
    .createTable('ledger_checkpoints')
    .addColumn('ledger_id', 'text', (c) => c.notNull())
    .addColumn('size', 'bigint', (c) => c.notNull())
    .addColumn('note', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('ledger_checkpoints_pk', ['ledger_id', 'size'])
    .execute();
  await db.schema
    .createTable('ledger_timestamps')
    .addColumn('ledger_id', 'text', (c) => c.notNull())
    .addColumn('size', 'bigint', (c) => c.notNull())
    .addColumn('token', blob, (c) => c.notNull())
    .addColumn('tsa_url', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('ledger_timestamps_pk', ['ledger_id', 'size'])
    .execute();
}

async function sqliteTriggers(db: Kysely<unknown>): Promise<void> {
  for (const table of APPEND_ONLY_LEDGER_TABLES) {
    for (const op of ['update', 'delete']) {
      await sql
        .raw(
          `create trigger ${table}_no_${op} before ${op} on ${table} ` +
            `begin select raise(abort, '${table} is append-only'); end`,
        )
        .execute(db);
    }
  }
  await sql
    .raw(
      `create trigger ledgers_no_delete before delete on ledgers begin select raise(abort, 'ledgers is append-only'); end`,
    )
    .execute(db);
  await sql
    .raw(
      `create trigger ledgers_only_seed before update of id, origin, key_name, public_key, created_at on ledgers ` +
        `begin select raise(abort, 'ledgers: only sealed_seed may change'); end`,
    )
    .execute(db);
}

async function postgresTriggers(db: Kysely<unknown>): Promise<void> {
  await sql
    .raw(
      `create function custos_ledger_append_only() returns trigger language plpgsql as $$
begin
  raise exception '% is append-only (% refused)', tg_table_name, tg_op using errcode = '42501';
end $$`,
    )
    .execute(db);
  await sql
    .raw(
      `create function custos_ledgers_guard() returns trigger language plpgsql as $$
begin
  if tg_op = 'UPDATE' and new.id = old.id and new.origin = old.origin and new.key_name = old.key_name
     and new.public_key = old.public_key and new.created_at = old.created_at then
    return new;
  end if;
  raise exception 'ledgers: only sealed_seed may change (% refused)', tg_op using errcode = '42501';
end $$`,
    )
    .execute(db);
  for (const table of APPEND_ONLY_LEDGER_TABLES) {
    await sql
      .raw(
        `create trigger ${table}_append_only before update or delete on ${table} ` +
          `for each row execute function custos_ledger_append_only()`,
      )
      .execute(db);
  }
  for (const table of [...APPEND_ONLY_LEDGER_TABLES, 'ledgers']) {
    await sql
      .raw(
        `create trigger ${table}_no_truncate before truncate on ${table} ` +
          `for each statement execute function custos_ledger_append_only()`,
      )
      .execute(db);
  }
  await sql
    .raw(
      `create trigger ledgers_guard before update or delete on ledgers for each row execute function custos_ledgers_guard()`,
    )
    .execute(db);
}

async function up(db: Kysely<unknown>, dialect: DialectName): Promise<void> {
  await createTables(db, dialect);
  if (dialect === 'sqlite') await sqliteTriggers(db);
  else await postgresTriggers(db);
}

export const ledger: StoreMigration = { name: '002-ledger', up };
