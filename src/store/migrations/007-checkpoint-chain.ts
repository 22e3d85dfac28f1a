// Checkpoint rows name the size of the checkpoint before them (`prev_size`, null for the first and
// for rows written before this migration), so a deleted checkpoint row between two others is
// detected and named by verification, like a deleted entry or tile.
import type { Kysely } from 'kysely';
import type { StoreMigration } from './types.ts';

async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('ledger_checkpoints').addColumn('prev_size', 'bigint').execute();
}

export const checkpointChain: StoreMigration = { name: '007-checkpoint-chain', up };
