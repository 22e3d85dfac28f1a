// The dialect matrix: every store test runs against a fresh SQLite file and a fresh PostgreSQL schema.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openStore, type Store, type StoreOptions, type DialectName } from '../../src/store/index.ts';

export const DIALECTS: readonly DialectName[] = ['sqlite', 'postgres'];

export const PG_URL = process.env.CUSTOS_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface TestStore {
  readonly store: Store;
  readonly options: StoreOptions;
  /** Open another connection to the same database (as a second process would). */
  reopen(): Promise<Store>;
  cleanup(): Promise<void>;
}

/** Create an isolated, migrated store for one test of the given dialect. */
export async function createTestStore(dialect: DialectName): Promise<TestStore> {
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'custos-test-'));
    const options: StoreOptions = { dialect: 'sqlite', file: join(dir, 'custos.db') };
    const store = await openStore(options);
    return {
      store,
      options,
      reopen: () => openStore(options),
      cleanup: async () => {
        await store.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const options: StoreOptions = { dialect: 'postgres', url: PG_URL, schema };
  const store = await openStore(options);
  return {
    store,
    options,
    reopen: () => openStore(options),
    cleanup: async () => {
      await store.close();
      const client = new pg.Client({ connectionString: PG_URL });
      await client.connect();
      await client.query(`drop schema if exists ${schema} cascade`);
      await client.end();
    },
  };
}
