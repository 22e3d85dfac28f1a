// What the vault shows about a secret: names, scope, versions, authorship and rotation dates.
// There is deliberately no field that could hold the value, its length or a digest of it.
import type { Database } from '../store/index.ts';

export type SecretState = 'active' | 'retired' | 'deleted';

export interface SecretMetadata {
  readonly workspace: string;
  readonly name: string;
  readonly connector: string;
  /** An environment id, or `*` for every environment. */
  readonly env: string;
  readonly version: number;
  readonly state: SecretState;
  readonly createdBy: string;
  readonly createdAt: string;
  readonly retiredAt: string | null;
  readonly deletedAt: string | null;
  readonly rotateEveryDays: number | null;
  readonly nextRotationAt: string | null;
}

export interface OverdueSecret extends SecretMetadata {
  /** Whole days since `nextRotationAt` (0 on the day it fell due). */
  readonly daysOverdue: number;
}

type Row = Omit<Database['secret_versions'], 'ciphertext' | 'dek_id'>;

/** Columns that may be read for metadata: never `ciphertext` or `dek_id`. */
export const METADATA_COLUMNS = [
  'workspace_id',
  'name',
  'connector',
  'env',
  'version',
  'state',
  'created_by',
  'created_at',
  'retired_at',
  'deleted_at',
  'rotate_every_days',
  'next_rotation_at',
] as const;

export function toMetadata(row: Row): SecretMetadata {
  return {
    workspace: row.workspace_id,
    name: row.name,
    connector: row.connector,
    env: row.env,
    version: row.version,
    state: row.state,
    createdBy: row.created_by,
    createdAt: row.created_at,
    retiredAt: row.retired_at,
    deletedAt: row.deleted_at,
    rotateEveryDays: row.rotate_every_days,
    nextRotationAt: row.next_rotation_at,
  };
}

const DAY_MS = 86_400_000;

/** When a version created at `from` is next due, or null without a schedule. */
export function nextRotation(from: Date, days: number | null): string | null {
  return days === null ? null : new Date(from.getTime() + days * DAY_MS).toISOString();
}

export function daysOverdue(nextRotationAt: string, now: Date): number {
  return Math.max(0, Math.floor((now.getTime() - Date.parse(nextRotationAt)) / DAY_MS));
}
