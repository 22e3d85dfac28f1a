// Secrets vault and kill switches: versioned sealed secret values scoped per connector and
// environment (one active version each, enforced by a partial unique index), and kill switch states.
import { sql, type Kysely } from 'kysely';
import { blobType, type DialectName, type StoreMigration } from './types.ts';

async function up(db: Kysely<unknown>, dialect: DialectName): Promise<void> {
  await db.schema
    .createTable('secret_versions')
    .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspaces.id'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('connector', 'text', (c) => c.notNull())
    .addColumn('env', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull().check(sql`state in ('active', 'retired', 'deleted')`))
    .addColumn('dek_id', 'text', (c) => c.notNull().references('deks.id'))
    .addColumn('ciphertext', blobType(dialect))
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('retired_at', 'text')
    .addColumn('rotate_every_days', 'integer')
    .addColumn('next_rotation_at', 'text')
    .addColumn('deleted_at', 'text')
    .addPrimaryKeyConstraint('secret_versions_pk', ['workspace_id', 'name', 'connector', 'env', 'version'])
    .addCheckConstraint('secret_versions_deleted_wiped', sql`state <> 'deleted' or ciphertext is null`)
    .addCheckConstraint('secret_versions_live_sealed', sql`state = 'deleted' or ciphertext is not null`)
    .execute();
  await db.schema
    .createIndex('secret_versions_one_active')
    .on('secret_versions')
    .columns(['workspace_id', 'name', 'connector', 'env'])
    .unique()
    .where(sql.ref('state'), '=', 'active')
    .execute();
  await db.schema
    .createIndex('secret_versions_rotation')
    .on('secret_versions')
    .columns(['workspace_id', 'state', 'next_rotation_at'])
    .execute();
  await db.schema
    .createTable('kill_switches')
    .addColumn('scope_kind', 'text', (c) =>
      c.notNull().check(sql`scope_kind in ('global', 'workspace', 'workflow', 'connector', 'ai')`),
    )
    .addColumn('scope_id', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull().check(sql`state in ('engaged', 'released')`))
    .addColumn('changed_by', 'text', (c) => c.notNull())
    .addColumn('changed_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('kill_switches_pk', ['scope_kind', 'scope_id'])
    .execute();
}

export const secrets: StoreMigration = { name: '004-secrets', up };
