// Row types of the ledger tables (owned by ledger/, declared here so the store knows its schema).
// Every ledger table is append-only at the database (triggers, see migrations/002-ledger.ts).
import type { ColumnType } from 'kysely';
import type { Bytes } from './schema.ts';

/** One row per ledger: its origin and Ed25519 key; the seed is sealed by the root key provider. */
export interface LedgersTable {
  id: string;
  origin: string;
  key_name: string;
  public_key: Bytes;
  /** May be rewritten (root key rotation), nothing else in the row may change. */
  sealed_seed: Bytes;
  created_at: string;
}

/** Entry `idx` of a ledger: the RFC 8785 bytes of the event and SHA-256(0x00 || entry). */
export interface LedgerEntriesTable {
  ledger_id: string;
  idx: number;
  entry: Bytes;
  leaf_hash: Bytes;
}

/** The root of full tile `idx` at tile level `level` ≥ 1: MTH of 256^level entries. */
export interface LedgerTilesTable {
  ledger_id: string;
  level: number;
  idx: number;
  hash: Bytes;
}

/** A signed checkpoint (C2SP tlog-checkpoint note) of the ledger at `size`. */
export interface LedgerCheckpointsTable {
  ledger_id: string;
  size: number;
  note: string;
  created_at: string;
  /** Size of the checkpoint stored before this one; null for the first (and for older rows). */
  prev_size: ColumnType<number | null, number | null | undefined, never>;
}

/** An RFC 3161 time-stamp token over SHA-256 of the checkpoint note at `size`. */
export interface LedgerTimestampsTable {
  ledger_id: string;
  size: number;
  token: Bytes;
  tsa_url: string;
  created_at: string;
}

export interface LedgerTables {
  ledgers: LedgersTable;
  ledger_entries: LedgerEntriesTable;
  ledger_tiles: LedgerTilesTable;
  ledger_checkpoints: LedgerCheckpointsTable;
  ledger_timestamps: LedgerTimestampsTable;
}
