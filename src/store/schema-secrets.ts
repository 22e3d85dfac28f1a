// Row types of the secrets vault and the kill switches (owned by secrets/ and egress/, declared here
// so the store knows its schema). Secret values exist only as AES-GCM ciphertext under a fresh DEK.
import type { Bytes } from './schema.ts';

export type SecretStateColumn = 'active' | 'retired' | 'deleted';

/** One version of a secret; at most one version per (workspace, name, connector, env) is active. */
export interface SecretVersionsTable {
  workspace_id: string;
  name: string;
  connector: string;
  /** An environment id, or `*` for every environment without a more specific secret. */
  env: string;
  version: number;
  state: SecretStateColumn;
  /** The DEK (in `deks`) the value is sealed under; its AAD binds workspace, name, version, connector, env. */
  dek_id: string;
  /** Sealed value; null once the secret is deleted. */
  ciphertext: Bytes | null;
  created_by: string;
  created_at: string;
  retired_at: string | null;
  rotate_every_days: number | null;
  next_rotation_at: string | null;
  deleted_at: string | null;
}

export type KillSwitchScopeColumn = 'global' | 'workspace' | 'workflow' | 'connector' | 'ai';

/** The current state of one kill switch; every change is also a ledger event. */
export interface KillSwitchesTable {
  scope_kind: KillSwitchScopeColumn;
  /** `*` for global scopes; a workspace id; or `<workspace>/<id>` for workflows and connectors. */
  scope_id: string;
  state: 'engaged' | 'released';
  changed_by: string;
  changed_at: string;
}

export interface SecretsTables {
  secret_versions: SecretVersionsTable;
  kill_switches: KillSwitchesTable;
}
