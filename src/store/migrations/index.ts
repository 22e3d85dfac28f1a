// The ordered list of schema migrations; append only, never edit a landed migration.
import { foundation } from './001-foundation.ts';
import type { StoreMigration } from './types.ts';

export const MIGRATIONS: readonly StoreMigration[] = [foundation];
export type { StoreMigration, DialectName } from './types.ts';
export { blobType } from './types.ts';
