// Custody tables: export keys, definitions, produced exports, the WORM archive index and the database
// backend's chunks (a repair appends a generation; no chunk is ever rewritten). Triggers enforce
// immutability too, so a bug or a SQL session cannot overwrite, shorten retention or delete content.
import { sql, type Kysely } from 'kysely';
import { blobType, type DialectName, type StoreMigration } from './types.ts';

const APPEND_ONLY = ['custody_definitions', 'custody_exports'] as const;

async function createTables(db: Kysely<unknown>, dialect: DialectName): Promise<void> {
  const blob = blobType(dialect);
  await db.schema
    .createTable('custody_export_keys')
    .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspaces.id'))
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('key_id', 'text', (c) => c.notNull().unique())
    .addColumn('public_key', blob, (c) => c.notNull())
    .addColumn('sealed_seed', blob, (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull().check(sql`state in ('active', 'retired', 'revoked')`))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('retired_at', 'text')
    .addColumn('revoked_at', 'text')
    .addColumn('revoked_reason', 'text')
    .addPrimaryKeyConstraint('custody_export_keys_pk', ['workspace_id', 'version'])
    .execute();
  await db.schema
    .createTable('custody_definitions')
    .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspaces.id'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('spec', 'text', (c) => c.notNull())
    .addColumn('digest', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('custody_definitions_pk', ['workspace_id', 'name', 'version'])
    .execute();
  await db.schema
    .createTable('custody_exports')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspaces.id'))
    .addColumn('definition_name', 'text', (c) => c.notNull())
    .addColumn('definition_version', 'integer', (c) => c.notNull())
    .addColumn('purpose', 'text', (c) => c.notNull())
    .addColumn('actor_kind', 'text', (c) => c.notNull())
    .addColumn('actor_id', 'text', (c) => c.notNull())
    .addColumn('key_id', 'text', (c) => c.notNull())
    .addColumn('statement_sha256', 'text', (c) => c.notNull())
    .addColumn('bundle_sha256', 'text', (c) => c.notNull())
    .addColumn('bundle_size', 'bigint', (c) => c.notNull())
    .addColumn('payload_oxum', 'text', (c) => c.notNull())
    .addColumn('recipients', 'text', (c) => c.notNull())
    .addColumn('ledger_index', 'bigint', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('custody_archive')
    .addColumn('sha256', 'text', (c) => c.primaryKey())
    .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspaces.id'))
    .addColumn('export_id', 'text')
    .addColumn('size', 'bigint', (c) => c.notNull())
    .addColumn('backend', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('retain_until', 'text', (c) => c.notNull())
    .addColumn('legal_hold', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('hold_reason', 'text')
    .addColumn('hold_by', 'text')
    .addColumn('hold_at', 'text')
    .addColumn('deletion_requested_by', 'text')
    .addColumn('deletion_requested_at', 'text')
    .addColumn('deleted_by', 'text')
    .addColumn('deleted_at', 'text')
    .addColumn('last_scrub_at', 'text')
    .addColumn('last_scrub_ok', 'integer')
    .execute();
  await db.schema
    .createIndex('custody_archive_by_workspace')
    .on('custody_archive')
    .columns(['workspace_id', 'created_at'])
    .execute();
  await db.schema
    .createTable('custody_archive_chunks')
    .addColumn('sha256', 'text', (c) => c.notNull())
    .addColumn('generation', 'integer', (c) => c.notNull())
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('data', blob, (c) => c.notNull())
    .addPrimaryKeyConstraint('custody_archive_chunks_pk', ['sha256', 'generation', 'seq'])
    .execute();
}

async function sqliteTriggers(db: Kysely<unknown>): Promise<void> {
  const run = (text: string): Promise<unknown> => sql.raw(text).execute(db);
  for (const table of APPEND_ONLY) {
    for (const op of ['update', 'delete']) {
      await run(
        `create trigger ${table}_no_${op} before ${op} on ${table} begin select raise(abort, '${table} is append-only'); end`,
      );
    }
  }
  await run(
    `create trigger custody_export_keys_no_delete before delete on custody_export_keys begin select raise(abort, 'export keys are never deleted'); end`,
  );
  await run(
    `create trigger custody_export_keys_fixed before update of workspace_id, version, key_id, public_key, created_at on custody_export_keys ` +
      `begin select raise(abort, 'export keys: only state and its dates may change'); end`,
  );
  await run(
    `create trigger custody_export_keys_no_unrevoke before update of state on custody_export_keys when old.state = 'revoked' and new.state <> 'revoked' ` +
      `begin select raise(abort, 'a revoked export key stays revoked'); end`,
  );
  await run(
    `create trigger custody_archive_no_delete before delete on custody_archive begin select raise(abort, 'archive rows are tombstoned, never deleted'); end`,
  );
  await run(
    `create trigger custody_archive_fixed before update of sha256, workspace_id, export_id, size, created_at, created_by on custody_archive ` +
      `begin select raise(abort, 'archived content is immutable'); end`,
  );
  await run(
    `create trigger custody_archive_retention before update of retain_until on custody_archive when new.retain_until < old.retain_until ` +
      `begin select raise(abort, 'retention can only be extended'); end`,
  );
  await run(
    `create trigger custody_archive_chunks_no_update before update on custody_archive_chunks begin select raise(abort, 'archived content is immutable'); end`,
  );
  await run(
    `create trigger custody_archive_chunks_delete before delete on custody_archive_chunks ` +
      `when not exists (select 1 from custody_archive a where a.sha256 = old.sha256 and a.deleted_at is not null) ` +
      `begin select raise(abort, 'archived content is deleted only through an approved deletion'); end`,
  );
}

async function postgresTriggers(db: Kysely<unknown>): Promise<void> {
  const run = (text: string): Promise<unknown> => sql.raw(text).execute(db);
  await run(`create function custos_custody_refuse() returns trigger language plpgsql as $$
begin
  raise exception '% is immutable (% refused)', tg_table_name, tg_op using errcode = '42501';
end $$`);
  await run(`create function custos_custody_keys_guard() returns trigger language plpgsql as $$
begin
  if tg_op = 'UPDATE' and new.workspace_id = old.workspace_id and new.version = old.version and new.key_id = old.key_id
     and new.public_key = old.public_key and new.created_at = old.created_at
     and not (old.state = 'revoked' and new.state <> 'revoked') then
    return new;
  end if;
  raise exception 'export keys: only state and its dates may change (% refused)', tg_op using errcode = '42501';
end $$`);
  await run(`create function custos_custody_archive_guard() returns trigger language plpgsql as $$
begin
  if tg_op = 'UPDATE' and new.sha256 = old.sha256 and new.workspace_id = old.workspace_id
     and new.export_id is not distinct from old.export_id and new.size = old.size
     and new.created_at = old.created_at and new.created_by = old.created_by
     and new.retain_until >= old.retain_until then
    return new;
  end if;
  raise exception 'archived content is immutable (% refused)', tg_op using errcode = '42501';
end $$`);
  await run(`create function custos_custody_chunks_guard() returns trigger language plpgsql as $$
begin
  if tg_op = 'DELETE' and exists (select 1 from custody_archive a where a.sha256 = old.sha256 and a.deleted_at is not null) then
    return old;
  end if;
  raise exception 'archived content is immutable (% refused)', tg_op using errcode = '42501';
end $$`);
  for (const table of APPEND_ONLY) {
    await run(
      `create trigger ${table}_immutable before update or delete on ${table} for each row execute function custos_custody_refuse()`,
    );
  }
  await run(
    `create trigger custody_export_keys_guard before update or delete on custody_export_keys for each row execute function custos_custody_keys_guard()`,
  );
  await run(
    `create trigger custody_archive_guard before update or delete on custody_archive for each row execute function custos_custody_archive_guard()`,
  );
  await run(
    `create trigger custody_archive_chunks_guard before update or delete on custody_archive_chunks for each row execute function custos_custody_chunks_guard()`,
  );
  for (const table of [...APPEND_ONLY, 'custody_export_keys', 'custody_archive', 'custody_archive_chunks']) {
    await run(
      `create trigger ${table}_no_truncate before truncate on ${table} for each statement execute function custos_custody_refuse()`,
    );
  }
}

async function up(db: Kysely<unknown>, dialect: DialectName): Promise<void> {
  await createTables(db, dialect);
  if (dialect === 'sqlite') await sqliteTriggers(db);
  else await postgresTriggers(db);
}

export const custody: StoreMigration = { name: '003-custody', up };
