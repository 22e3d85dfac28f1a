// Adapts node:sqlite's DatabaseSync to the small interface Kysely's SQLite dialect drives,
// with a prepared-statement cache; opens with WAL, synchronous=FULL and foreign keys on.
import { DatabaseSync, type StatementSync, type SQLInputValue } from 'node:sqlite';
import type { SqliteDatabase, SqliteStatement } from 'kysely';

const CACHE_LIMIT = 256;

function bind(parameters: readonly unknown[]): SQLInputValue[] {
  return parameters.map((p) => {
    if (typeof p === 'boolean') return p ? 1 : 0;
    if (p === undefined) return null;
    return p as SQLInputValue;
  });
}

class CachedStatement implements SqliteStatement {
  readonly reader: boolean;
  readonly #stmt: StatementSync;

  constructor(stmt: StatementSync) {
    this.#stmt = stmt;
    this.reader = stmt.columns().length > 0;
  }

  all(parameters: readonly unknown[]): unknown[] {
    return this.#stmt.all(...bind(parameters));
  }

  run(parameters: readonly unknown[]): { changes: number | bigint; lastInsertRowid: number | bigint } {
    return this.#stmt.run(...bind(parameters));
  }

  iterate(parameters: readonly unknown[]): IterableIterator<unknown> {
    return this.#stmt.iterate(...bind(parameters));
  }
}

/** A node:sqlite database that Kysely can drive; `raw` is exposed for pragmas and baselines. */
export class NodeSqliteDatabase implements SqliteDatabase {
  readonly raw: DatabaseSync;
  readonly #cache = new Map<string, CachedStatement>();

  constructor(file: string) {
    this.raw = new DatabaseSync(file, { enableForeignKeyConstraints: true, timeout: 10_000 });
    this.raw.exec('PRAGMA journal_mode = WAL');
    this.raw.exec('PRAGMA synchronous = FULL');
    this.raw.exec('PRAGMA foreign_keys = ON');
    // Destroyed key material is overwritten on delete, not left in free pages.
    this.raw.exec('PRAGMA secure_delete = ON');
  }

  prepare(sql: string): SqliteStatement {
    // Kysely opens transactions with a deferred `begin`. A deferred transaction that reads and then
    // writes fails at once with SQLITE_BUSY when another connection (the ledger writer, a second
    // process) committed in between; taking the write lock up front makes it wait its turn instead.
    if (sql === 'begin') sql = 'begin immediate';
    let stmt = this.#cache.get(sql);
    if (stmt === undefined) {
      stmt = new CachedStatement(this.raw.prepare(sql));
      if (this.#cache.size >= CACHE_LIMIT) this.#cache.clear();
      this.#cache.set(sql, stmt);
    }
    return stmt;
  }

  close(): void {
    this.#cache.clear();
    if (this.raw.isOpen) this.raw.close();
  }
}
