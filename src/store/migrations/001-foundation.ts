// Foundation tables: installation metadata, workspaces, bootstrap/API tokens, keyring, records.
import { sql, type Kysely } from 'kysely';
import { blobType, type DialectName, type StoreMigration } from './types.ts';

async function up(db: Kysely<unknown>, dialect: DialectName): Promise<void> {
  const blob = blobType(dialect);
  await db.schema
    .createTable('custos_meta')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('value', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('workspaces')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('api_tokens')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspaces.id'))
    .addColumn('roles', 'text', (c) => c.notNull())
    .addColumn('label', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text')
    .addColumn('revoked_at', 'text')
    .execute();
  await db.schema
    .createTable('kek_versions')
    .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspaces.id'))
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('state', 'text', (c) =>
      c.notNull().check(sql`state in ('active', 'decrypt_only', 'destroyed')`),
    )
    .addColumn('wrapped', blob)
    .addColumn('wrap_count', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('retired_at', 'text')
    .addColumn('destroyed_at', 'text')
    .addPrimaryKeyConstraint('kek_versions_pk', ['workspace_id', 'version'])
    .execute();
  // At most one active KEK version per workspace, whatever races between rotating processes.
  await db.schema
    .createIndex('kek_versions_one_active')
    .on('kek_versions')
    .column('workspace_id')
    .unique()
    .where(sql.ref('state'), '=', 'active')
    .execute();
  await db.schema
    .createTable('workspace_secrets')
    .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspaces.id'))
    .addColumn('purpose', 'text', (c) => c.notNull())
    .addColumn('wrapped', blob, (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('workspace_secrets_pk', ['workspace_id', 'purpose'])
    .execute();
  await db.schema
    .createTable('subject_keys')
    .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspaces.id'))
    .addColumn('subject_id', 'text', (c) => c.notNull())
    .addColumn('kek_version', 'integer')
    .addColumn('wrapped', blob)
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('shredded_at', 'text')
    .addPrimaryKeyConstraint('subject_keys_pk', ['workspace_id', 'subject_id'])
    .execute();
  await db.schema
    .createIndex('subject_keys_by_version')
    .on('subject_keys')
    .columns(['workspace_id', 'kek_version', 'subject_id'])
    .execute();
  await db.schema
    .createTable('deks')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspaces.id'))
    .addColumn('kek_version', 'integer')
    .addColumn('origin_version', 'integer', (c) => c.notNull())
    .addColumn('subject_id', 'text')
    .addColumn('wrapped', blob, (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('deks_by_version')
    .on('deks')
    .columns(['workspace_id', 'kek_version', 'id'])
    .execute();
  await db.schema.createIndex('deks_by_subject').on('deks').columns(['workspace_id', 'subject_id']).execute();
  await db.schema
    .createTable('records')
    .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspaces.id'))
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('dek_id', 'text', (c) => c.notNull().references('deks.id'))
    .addColumn('subject_id', 'text')
    .addColumn('schema_digest', 'text', (c) => c.notNull())
    .addColumn('data', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('records_pk', ['workspace_id', 'type', 'id'])
    .execute();
  await db.schema
    .createTable('data_schemas')
    .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspaces.id'))
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('digest', 'text', (c) => c.notNull())
    .addColumn('definition', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('data_schemas_pk', ['workspace_id', 'digest'])
    .execute();
  await db.schema
    .createTable('blind_index')
    .addColumn('workspace_id', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('field', 'text', (c) => c.notNull())
    .addColumn('digest', 'text', (c) => c.notNull())
    .addColumn('record_id', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('blind_index_pk', ['workspace_id', 'type', 'field', 'digest', 'record_id'])
    .execute();
  await db.schema
    .createTable('token_vault')
    .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspaces.id'))
    .addColumn('domain', 'text', (c) => c.notNull())
    .addColumn('token', 'text', (c) => c.notNull())
    .addColumn('dek_id', 'text', (c) => c.notNull().references('deks.id'))
    .addColumn('ciphertext', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('token_vault_pk', ['workspace_id', 'domain', 'token'])
    .execute();
}

export const foundation: StoreMigration = { name: '001-foundation', up };
