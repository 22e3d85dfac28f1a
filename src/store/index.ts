// Public surface of store/: the Kysely database on SQLite or PostgreSQL, its schema and migrations.
export { openStore } from './open.ts';
export type { Store, StoreOptions } from './open.ts';
export { migrate } from './migrate.ts';
export { MIGRATIONS, blobType } from './migrations/index.ts';
export type { StoreMigration, DialectName } from './migrations/index.ts';
export type * from './schema.ts';
export type * from './schema-iam.ts';
export type * from './schema-custody.ts';
export { nowIso } from './time.ts';
export { asBuffer } from './bytes.ts';
