// Row types of the custody tables (owned by custody/, declared here so the store knows its schema).
// Definitions, exports and archive chunks are append-only; archive rows are tombstoned, never
// deleted, and their content address, size and origin never change (triggers in 003-custody.ts).
import type { Bytes } from './schema.ts';

/** A workspace's Ed25519 export signing key version; the seed is sealed by the root key provider. */
export interface CustodyExportKeysTable {
  workspace_id: string;
  version: number;
  /** Lowercase hex SHA-256 of the DER SubjectPublicKeyInfo. */
  key_id: string;
  public_key: Bytes;
  sealed_seed: Bytes;
  state: 'active' | 'retired' | 'revoked';
  created_at: string;
  retired_at: string | null;
  revoked_at: string | null;
  revoked_reason: string | null;
}

/** One immutable version of an export definition (RFC 8785 JSON spec and its digest). */
export interface CustodyDefinitionsTable {
  workspace_id: string;
  name: string;
  version: number;
  spec: string;
  digest: string;
  created_at: string;
  created_by: string;
}

/** One produced export bundle. */
export interface CustodyExportsTable {
  id: string;
  workspace_id: string;
  definition_name: string;
  definition_version: number;
  purpose: string;
  actor_kind: string;
  actor_id: string;
  key_id: string;
  statement_sha256: string;
  bundle_sha256: string;
  bundle_size: number;
  payload_oxum: string;
  recipients: string;
  ledger_index: number;
  created_at: string;
}

/** An export running (or run) in the background of an API request. */
export interface CustodyExportJobsTable {
  /** The export id the bundle carries. */
  id: string;
  workspace_id: string;
  definition_name: string;
  definition_version: number;
  actor_kind: string;
  actor_id: string;
  state: 'running' | 'succeeded' | 'failed' | 'interrupted';
  records: number;
  error_code: string | null;
  bundle_sha256: string | null;
  bundle_size: number | null;
  created_at: string;
  heartbeat_at: string;
  finished_at: string | null;
}

/** An archived bundle, addressed by the SHA-256 of its bytes. */
export interface CustodyArchiveTable {
  sha256: string;
  workspace_id: string;
  export_id: string | null;
  size: number;
  backend: string;
  created_at: string;
  created_by: string;
  retain_until: string;
  legal_hold: number;
  hold_reason: string | null;
  hold_by: string | null;
  hold_at: string | null;
  deletion_requested_by: string | null;
  deletion_requested_at: string | null;
  deleted_by: string | null;
  deleted_at: string | null;
  last_scrub_at: string | null;
  last_scrub_ok: number | null;
}

/** Archive content in the database backend, in 1 MiB chunks; a repair appends a new generation. */
export interface CustodyArchiveChunksTable {
  sha256: string;
  generation: number;
  seq: number;
  data: Bytes;
}

export interface CustodyTables {
  custody_export_keys: CustodyExportKeysTable;
  custody_definitions: CustodyDefinitionsTable;
  custody_exports: CustodyExportsTable;
  custody_export_jobs: CustodyExportJobsTable;
  custody_archive: CustodyArchiveTable;
  custody_archive_chunks: CustodyArchiveChunksTable;
}
