// The shape of one versioned migration: it receives the dialect so column types can differ.
import type { Kysely } from 'kysely';

export type DialectName = 'sqlite' | 'postgres';

export interface StoreMigration {
  readonly name: string;
  up(db: Kysely<unknown>, dialect: DialectName): Promise<void>;
}

/** Column type for binary data in each dialect. */
export function blobType(dialect: DialectName): 'blob' | 'bytea' {
  return dialect === 'postgres' ? 'bytea' : 'blob';
}
