// Opens the Custos store on SQLite (embedded) or PostgreSQL (cluster) and applies migrations.
// Both dialects return binary columns as Uint8Array/Buffer and 64-bit integers as numbers.
import { Kysely, PostgresDialect, SqliteDialect, sql } from 'kysely';
import type pg from 'pg';
import { CustosError } from '../errors/index.ts';
import { migrate } from './migrate.ts';
import type { DialectName } from './migrations/index.ts';
import type { Database } from './schema.ts';
import { NodeSqliteDatabase } from './sqlite-database.ts';

let driver: typeof pg | undefined;

/** The PostgreSQL driver, loaded when a PostgreSQL store is first opened (SQLite never needs it). */
async function postgresDriver(): Promise<typeof pg> {
  if (driver === undefined) {
    const loaded = (await import('pg')).default;
    // int8 → number: counters and ledger indexes stay far below 2^53.
    loaded.types.setTypeParser(loaded.types.builtins.INT8, (v) => Number.parseInt(v, 10));
    driver = loaded;
  }
  return driver;
}

export type StoreOptions =
  | { readonly dialect: 'sqlite'; readonly file: string }
  | {
      readonly dialect: 'postgres';
      readonly url: string;
      readonly schema?: string;
      readonly poolSize?: number;
    };

export interface Store {
  readonly dialect: DialectName;
  readonly db: Kysely<Database>;
  /** The underlying node:sqlite handle (SQLite only), for baselines and pragmas. */
  readonly sqlite?: NodeSqliteDatabase;
  /** The pg pool (PostgreSQL only). */
  readonly pool?: pg.Pool;
  close(): Promise<void>;
}

/**
 * Open the store and bring its schema up to date.
 * Throws STORE_UNAVAILABLE when the database cannot be reached, STORE_MIGRATION_FAILED on a failed migration.
 */
export async function openStore(options: StoreOptions, { migrateSchema = true } = {}): Promise<Store> {
  let store: Store;
  if (options.dialect === 'sqlite') {
    let sqlite: NodeSqliteDatabase;
    try {
      sqlite = new NodeSqliteDatabase(options.file);
    } catch (cause) {
      throw new CustosError('STORE_UNAVAILABLE', 'SQLite database cannot be opened', {
        cause,
        details: { field: 'database', rule: 'readable and writable file' },
      });
    }
    const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
    store = { dialect: 'sqlite', db, sqlite, close: () => db.destroy() };
  } else {
    const { Pool } = await postgresDriver();
    const pool = new Pool({
      connectionString: options.url,
      max: options.poolSize ?? 10,
      ...(options.schema === undefined ? {} : { options: `-c search_path=${quoteIdent(options.schema)}` }),
    });
    pool.on('error', () => {
      // idle client errors surface on the next query; keep the process alive
    });
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    try {
      if (options.schema !== undefined) {
        await sql`create schema if not exists ${sql.id(options.schema)}`.execute(db);
      } else {
        await sql`select 1`.execute(db);
      }
    } catch (cause) {
      await db.destroy();
      throw new CustosError('STORE_UNAVAILABLE', 'PostgreSQL cannot be reached', {
        cause,
        details: { field: 'databaseUrl', rule: 'reachable PostgreSQL server' },
      });
    }
    store = { dialect: 'postgres', db, pool, close: () => db.destroy() };
  }
  if (migrateSchema) {
    try {
      await migrate(store);
    } catch (err) {
      await store.close();
      throw err;
    }
  }
  return store;
}

function quoteIdent(name: string): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) {
    throw new CustosError('INPUT_INVALID', 'Schema name is not a plain identifier', {
      details: { field: 'schema', rule: '[a-z_][a-z0-9_]*' },
    });
  }
  return name;
}
