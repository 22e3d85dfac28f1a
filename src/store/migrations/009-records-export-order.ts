// Exports list record ids page by page in UTF-16 code-unit order (the order of the payload). Record
// ids are ASCII, so that is byte order: SQLite's primary key index (BINARY collation) already has it;
// PostgreSQL's follows the database collation, so it gets an index in the "C" collation.
import { sql, type Kysely } from 'kysely';
import type { DialectName, StoreMigration } from './types.ts';

async function up(db: Kysely<unknown>, dialect: DialectName): Promise<void> {
  if (dialect !== 'postgres') return;
  await sql`create index records_export_order on records (workspace_id, type, (id collate "C"))`.execute(db);
}

export const recordsExportOrder: StoreMigration = { name: '009-records-export-order', up };
