// Rate-limit windows shared by every API process of an installation (used on PostgreSQL, where
// several processes serve one database): one row per limited key and fixed window, counting hits.
// Keys are hashes of credentials or client addresses, never the credentials themselves.
import type { Kysely } from 'kysely';
import type { StoreMigration } from './types.ts';

async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('rate_limit_windows')
    .addColumn('bucket', 'text', (c) => c.notNull())
    .addColumn('window_start', 'bigint', (c) => c.notNull())
    .addColumn('hits', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('rate_limit_windows_pk', ['bucket', 'window_start'])
    .execute();
}

export const rateLimits: StoreMigration = { name: '008-rate-limits', up };
