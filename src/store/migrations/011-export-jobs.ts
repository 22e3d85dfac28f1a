// Exports that run in the background of an API request (Prefer: respond-async): one row per job,
// with its state, the records read so far, and a heartbeat its process renews while it runs, so a
// job whose process stopped is reported as interrupted by any process that reads it.
import { sql, type Kysely } from 'kysely';
import type { DialectName, StoreMigration } from './types.ts';

async function up(db: Kysely<unknown>, _dialect: DialectName): Promise<void> {
  await db.schema
    .createTable('custody_export_jobs')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspaces.id'))
    .addColumn('definition_name', 'text', (c) => c.notNull())
    .addColumn('definition_version', 'integer', (c) => c.notNull())
    .addColumn('actor_kind', 'text', (c) => c.notNull())
    .addColumn('actor_id', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) =>
      c.notNull().check(sql`state in ('running', 'succeeded', 'failed', 'interrupted')`),
    )
    .addColumn('records', 'integer', (c) => c.notNull())
    .addColumn('error_code', 'text')
    .addColumn('bundle_sha256', 'text')
    .addColumn('bundle_size', 'bigint')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('heartbeat_at', 'text', (c) => c.notNull())
    .addColumn('finished_at', 'text')
    .execute();
  await db.schema
    .createIndex('custody_export_jobs_by_workspace')
    .on('custody_export_jobs')
    .columns(['workspace_id', 'created_at'])
    .execute();
}

export const exportJobs: StoreMigration = { name: '011-export-jobs', up };
