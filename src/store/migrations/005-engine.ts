// Durable runtime tables: deployed workflow versions, runs with leases, the per-step log,
// dead letters, webhook receipts (replay protection) and cron schedules.
import { sql, type Kysely } from 'kysely';
import type { DialectName, StoreMigration } from './types.ts';

async function up(db: Kysely<unknown>, _dialect: DialectName): Promise<void> {
  await db.schema
    .createTable('workflow_versions')
    .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspaces.id'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('digest', 'text', (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('owner', 'text', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('workflow_versions_pk', ['workspace_id', 'name', 'version'])
    .execute();
  await db.schema
    .createTable('workflow_deployments')
    .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspaces.id'))
    .addColumn('environment', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('deployed_by', 'text', (c) => c.notNull())
    .addColumn('deployed_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('workflow_deployments_pk', ['workspace_id', 'environment', 'name'])
    .execute();
  await db.schema
    .createTable('runs')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspaces.id'))
    .addColumn('environment', 'text', (c) => c.notNull())
    .addColumn('workflow', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('owner', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) =>
      c
        .notNull()
        .check(
          sql`status in ('queued', 'running', 'retrying', 'waiting', 'halted', 'succeeded', 'dead_lettered', 'cancelled')`,
        ),
    )
    .addColumn('trigger_kind', 'text', (c) => c.notNull())
    .addColumn('trigger_key', 'text')
    .addColumn('input', 'text', (c) => c.notNull())
    .addColumn('correlation_id', 'text', (c) => c.notNull())
    .addColumn('traceparent', 'text', (c) => c.notNull())
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('step_id', 'text')
    .addColumn('attempt', 'integer', (c) => c.notNull())
    .addColumn('attempt_floor', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('next_at', 'text', (c) => c.notNull())
    .addColumn('lease_owner', 'text')
    .addColumn('lease_expires_at', 'text')
    .addColumn('lease_epoch', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('cancel_requested', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('error_code', 'text')
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addColumn('ended_at', 'text')
    .execute();
  // Trigger idempotency: one run per key per workflow and environment, whatever races.
  await db.schema
    .createIndex('runs_trigger_key')
    .on('runs')
    .columns(['workspace_id', 'environment', 'workflow', 'trigger_key'])
    .unique()
    .where(sql.ref('trigger_key'), 'is not', null)
    .execute();
  await db.schema.createIndex('runs_claimable').on('runs').columns(['status', 'next_at']).execute();
  await db.schema
    .createIndex('runs_by_workspace')
    .on('runs')
    .columns(['workspace_id', 'created_at'])
    .execute();
  await db.schema
    .createTable('run_steps')
    .addColumn('run_id', 'text', (c) => c.notNull().references('runs.id'))
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('attempt', 'integer', (c) => c.notNull())
    .addColumn('step_id', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) =>
      c
        .notNull()
        .check(sql`status in ('running', 'succeeded', 'failed', 'waiting', 'interrupted', 'cancelled')`),
    )
    .addColumn('worker', 'text', (c) => c.notNull())
    .addColumn('started_at', 'text', (c) => c.notNull())
    .addColumn('ended_at', 'text')
    .addColumn('duration_ms', 'double precision')
    .addColumn('error_code', 'text')
    .addColumn('retryable', 'integer')
    .addColumn('input_summary', 'text')
    .addColumn('output_summary', 'text')
    .addColumn('output', 'text')
    .addColumn('next_step', 'text')
    .addPrimaryKeyConstraint('run_steps_pk', ['run_id', 'seq', 'attempt'])
    .execute();
  // A step's result is committed exactly once: at most one succeeded attempt per position.
  await db.schema
    .createIndex('run_steps_one_result')
    .on('run_steps')
    .columns(['run_id', 'seq'])
    .unique()
    .where(sql.ref('status'), '=', 'succeeded')
    .execute();
  await db.schema
    .createTable('dead_letters')
    .addColumn('run_id', 'text', (c) => c.primaryKey().references('runs.id'))
    .addColumn('workspace_id', 'text', (c) => c.notNull())
    .addColumn('workflow', 'text', (c) => c.notNull())
    .addColumn('step_id', 'text', (c) => c.notNull())
    .addColumn('error_code', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('resolved_at', 'text')
    .execute();
  await db.schema
    .createTable('webhook_receipts')
    .addColumn('workspace_id', 'text', (c) => c.notNull())
    .addColumn('workflow', 'text', (c) => c.notNull())
    .addColumn('digest', 'text', (c) => c.notNull())
    .addColumn('received_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('webhook_receipts_pk', ['workspace_id', 'workflow', 'digest'])
    .execute();
  await db.schema
    .createIndex('webhook_receipts_by_time')
    .on('webhook_receipts')
    .column('received_at')
    .execute();
  await db.schema
    .createTable('schedules')
    .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspaces.id'))
    .addColumn('environment', 'text', (c) => c.notNull())
    .addColumn('workflow', 'text', (c) => c.notNull())
    .addColumn('cron', 'text', (c) => c.notNull())
    .addColumn('timezone', 'text', (c) => c.notNull())
    .addColumn('next_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('schedules_pk', ['workspace_id', 'environment', 'workflow'])
    .execute();
}

export const engine: StoreMigration = { name: '005-engine', up };
