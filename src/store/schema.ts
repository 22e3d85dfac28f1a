// Row types of every Custos table, as Kysely sees them. Binary columns are BLOB (SQLite) or
// BYTEA (PostgreSQL); counters are 64-bit integers read back as JS numbers.
import type { ColumnType } from 'kysely';
import type { LedgerTables } from './schema-ledger.ts';
import type { EngineTables } from './schema-engine.ts';
import type { SecretsTables } from './schema-secrets.ts';
import type { CustodyTables } from './schema-custody.ts';
import type { IamTables } from './schema-iam.ts';

export type Bytes = Uint8Array;

export interface MetaTable {
  key: string;
  value: string;
}

export interface WorkspacesTable {
  id: string;
  name: string;
  created_at: string;
}

export interface ApiTokensTable {
  id: string;
  token_hash: string;
  workspace_id: string;
  roles: string;
  label: string;
  created_at: string;
  expires_at: string | null;
  revoked_at: string | null;
  /** Added by 006-iam: the user or service account the token acts for (null: installation token). */
  owner_id: ColumnType<string | null, string | null | undefined, string | null>;
  created_by: ColumnType<string | null, string | null | undefined, string | null>;
  last_used_at: ColumnType<string | null, string | null | undefined, string | null>;
}

/** Workspace KEK versions, each sealed by the root key provider. */
export interface KekVersionsTable {
  workspace_id: string;
  version: number;
  state: 'active' | 'decrypt_only' | 'destroyed';
  wrapped: Bytes | null;
  wrap_count: ColumnType<number, number | undefined, number>;
  created_at: string;
  retired_at: string | null;
  destroyed_at: string | null;
}

/** Long-lived workspace secrets for purposes that must survive KEK rotation (blind indexes, tokens). */
export interface WorkspaceSecretsTable {
  workspace_id: string;
  purpose: string;
  wrapped: Bytes;
  created_at: string;
}

/** One data encryption key per record, wrapped by a KEK version or by a subject key. */
export interface DeksTable {
  id: string;
  workspace_id: string;
  /** The KEK version wrapping the DEK now (null when a subject key wraps it); rewrap moves it. */
  kek_version: number | null;
  /** The active KEK version when the DEK was made; field ciphertext names and binds it. Never changes. */
  origin_version: number;
  subject_id: string | null;
  wrapped: Bytes;
  created_at: string;
}

/** One key per data subject, wrapped by a KEK version; shredding deletes `wrapped`. */
export interface SubjectKeysTable {
  workspace_id: string;
  subject_id: string;
  kek_version: number | null;
  wrapped: Bytes | null;
  created_at: string;
  shredded_at: string | null;
}

export interface RecordsTable {
  workspace_id: string;
  type: string;
  id: string;
  dek_id: string;
  subject_id: string | null;
  schema_digest: string;
  data: string;
  created_at: string;
}

/** Data schemas records were imported with, so records can be decoded and masked later. */
export interface DataSchemasTable {
  workspace_id: string;
  type: string;
  digest: string;
  definition: string;
  created_at: string;
}

export interface BlindIndexTable {
  workspace_id: string;
  type: string;
  field: string;
  digest: string;
  record_id: string;
}

export interface TokenVaultTable {
  workspace_id: string;
  domain: string;
  token: string;
  dek_id: string;
  ciphertext: string;
  created_at: string;
}

/** One fixed rate-limit window of one key (a hashed credential or address), shared by API processes. */
export interface RateLimitWindowsTable {
  bucket: string;
  window_start: number;
  hits: number;
}

export interface Database extends LedgerTables, EngineTables, SecretsTables, CustodyTables, IamTables {
  custos_meta: MetaTable;
  workspaces: WorkspacesTable;
  api_tokens: ApiTokensTable;
  kek_versions: KekVersionsTable;
  workspace_secrets: WorkspaceSecretsTable;
  deks: DeksTable;
  subject_keys: SubjectKeysTable;
  records: RecordsTable;
  data_schemas: DataSchemasTable;
  blind_index: BlindIndexTable;
  token_vault: TokenVaultTable;
  rate_limit_windows: RateLimitWindowsTable;
}
