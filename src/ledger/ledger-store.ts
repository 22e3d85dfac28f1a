// Storage of ledgers in the Custos database: rows in, rows out, and the per-ledger write lock
// (BEGIN IMMEDIATE on SQLite, a transaction-scoped advisory lock on PostgreSQL) under which the
// sequencer reads the current size and appends without gaps or duplicates.
import type { StatementSync } from 'node:sqlite';
import { sql, type Kysely } from 'kysely';
import { sha256 } from '../crypto/index.ts';
import { CustosError } from '../errors/index.ts';
import { asBuffer, type Database, type Store } from '../store/index.ts';

export type Db = Kysely<Database>;

export interface LedgerRecord {
  readonly id: string;
  readonly origin: string;
  readonly keyName: string;
  readonly publicKey: Buffer;
  readonly sealedSeed: Buffer;
  readonly createdAt: string;
}

export interface EntryRow {
  readonly idx: number;
  readonly entry: Buffer;
  readonly leafHash: Buffer;
}

export interface TileRow {
  readonly level: number;
  readonly index: number;
  readonly hash: Buffer;
}

export interface CheckpointRow {
  readonly size: number;
  readonly note: string;
  readonly createdAt: string;
  /** Size of the checkpoint stored before this one (null: the first, or a row older than the chain). */
  readonly prevSize?: number | null;
}

export interface TimestampRow {
  readonly size: number;
  readonly token: Buffer;
  readonly tsaUrl: string;
  readonly createdAt: string;
}

const LEDGER_TABLES = [
  'ledgers',
  'ledger_entries',
  'ledger_tiles',
  'ledger_checkpoints',
  'ledger_timestamps',
] as const;
const SCAN_CHUNK = 8192;

/** The advisory lock key of a ledger: the first 8 bytes of a SHA-256, as a signed 64-bit integer. */
export function advisoryLockKey(ledgerId: string): string {
  return sha256(Buffer.from(`custos/ledger-sequencer/${ledgerId}`, 'utf8'))
    .readBigInt64BE(0)
    .toString();
}

export class LedgerStore {
  readonly store: Store;
  readonly #statements = new Map<string, StatementSync>();

  constructor(store: Store) {
    this.store = store;
  }

  get db(): Db {
    return this.store.db;
  }

  async findLedger(id: string): Promise<LedgerRecord | undefined> {
    const row = await this.db.selectFrom('ledgers').selectAll().where('id', '=', id).executeTakeFirst();
    if (row === undefined) return undefined;
    return {
      id: row.id,
      origin: row.origin,
      keyName: row.key_name,
      publicKey: asBuffer(row.public_key),
      sealedSeed: asBuffer(row.sealed_seed),
      createdAt: row.created_at,
    };
  }

  /** Insert a ledger unless another process created it first. */
  async insertLedger(record: LedgerRecord): Promise<void> {
    await this.db
      .insertInto('ledgers')
      .values({
        id: record.id,
        origin: record.origin,
        key_name: record.keyName,
        public_key: record.publicKey,
        sealed_seed: record.sealedSeed,
        created_at: record.createdAt,
      })
      .onConflict((oc) => oc.column('id').doNothing())
      .execute();
  }

  async ledgerIds(): Promise<string[]> {
    const rows = await this.db.selectFrom('ledgers').select('id').orderBy('id').execute();
    return rows.map((r) => r.id);
  }

  /**
   * PostgreSQL: revoke UPDATE, DELETE and TRUNCATE on every ledger table from `role` (the role the
   * application connects as, when another role owns the schema). Run as the owner; a no-op otherwise.
   */
  async restrictRole(role: string): Promise<void> {
    if (this.store.dialect !== 'postgres') return;
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(role)) {
      throw new CustosError('CONFIG_INVALID', 'ledger.applicationRole must be a plain role name', {
        details: { field: 'ledger.applicationRole', rule: '^[a-z_][a-z0-9_]{0,62}$' },
      });
    }
    for (const table of LEDGER_TABLES) {
      await sql`revoke update, delete, truncate on ${sql.table(table)} from ${sql.id(role)}`.execute(this.db);
    }
  }

  async workspaceExists(id: string): Promise<boolean> {
    const row = await this.db.selectFrom('workspaces').select('id').where('id', '=', id).executeTakeFirst();
    return row !== undefined;
  }

  /** Number of entries: one past the highest index (gaps are found by verification, not here). */
  async size(ledgerId: string, db: Db = this.db): Promise<number> {
    const row = await db
      .selectFrom('ledger_entries')
      .select((eb) => eb.fn.max<number | null>('idx').as('top'))
      .where('ledger_id', '=', ledgerId)
      .executeTakeFirst();
    const top = row?.top;
    return top === null || top === undefined ? 0 : top + 1;
  }

  /** Leaf hashes of entries [from, to). */
  async leafHashes(ledgerId: string, from: number, to: number): Promise<Buffer[]> {
    return this.#range('select idx, leaf_hash from ledger_entries', ledgerId, undefined, from, to, 'entries');
  }

  /** Entries [from, to). */
  async entries(ledgerId: string, from: number, to: number): Promise<Buffer[]> {
    return this.#range('select idx, entry from ledger_entries', ledgerId, undefined, from, to, 'entries');
  }

  /** Stored full-tile hashes at tile level `level` ≥ 1 for tile hash indexes [from, to). */
  async tileHashes(ledgerId: string, level: number, from: number, to: number): Promise<Buffer[]> {
    return this.#range(
      'select idx, hash from ledger_tiles',
      ledgerId,
      level,
      from,
      to,
      `tile level ${level}`,
    );
  }

  /**
   * Rows [from, to) of one ledger (and tile level) as [idx, bytes] pairs, checked to be contiguous.
   * On SQLite the statement runs on the raw handle while Kysely's connection lock is held, so no
   * in-process transaction is half-visible; proofs read a few of these per call.
   */
  async #range(
    select: string,
    ledgerId: string,
    level: number | undefined,
    from: number,
    to: number,
    what: string,
  ): Promise<Buffer[]> {
    if (to <= from) return [];
    const where =
      level === undefined
        ? 'ledger_id = ? and idx >= ? and idx < ?'
        : 'ledger_id = ? and level = ? and idx >= ? and idx < ?';
    const params: (string | number)[] =
      level === undefined ? [ledgerId, from, to] : [ledgerId, level, from, to];
    const text = `${select} where ${where} order by idx`;
    const raw = this.store.sqlite?.raw;
    let rows: [number, Uint8Array][];
    if (raw !== undefined) {
      rows = await this.db.connection().execute(() => {
        let stmt = this.#statements.get(text);
        if (stmt === undefined) {
          stmt = raw.prepare(text);
          stmt.setReturnArrays(true);
          this.#statements.set(text, stmt);
        }
        return Promise.resolve(stmt.all(...params) as unknown as [number, Uint8Array][]);
      });
    } else {
      const pool = this.store.pool;
      if (pool === undefined) throw new Error('store has neither a pool nor a SQLite handle');
      let n = 0;
      const result = await pool.query<[number, Buffer]>({
        text: text.replace(/\?/g, () => `$${++n}`),
        values: params,
        rowMode: 'array',
      });
      rows = result.rows;
    }
    if (rows.length !== to - from || rows.some((r, i) => r[0] !== from + i)) {
      const missing = rows.findIndex((r, i) => r[0] !== from + i);
      const index = from + (missing < 0 ? rows.length : missing);
      throw new CustosError('LEDGER_GAP', `Ledger ${what} are missing at index ${index}`, {
        details: { field: what, rule: 'contiguous indexes', index },
      });
    }
    return rows.map((r) => asBuffer(r[1]));
  }

  async allTiles(ledgerId: string): Promise<TileRow[]> {
    const rows = await this.db
      .selectFrom('ledger_tiles')
      .select(['level', 'idx', 'hash'])
      .where('ledger_id', '=', ledgerId)
      .orderBy('level')
      .orderBy('idx')
      .execute();
    return rows.map((r) => ({ level: r.level, index: r.idx, hash: asBuffer(r.hash) }));
  }

  async latestCheckpoint(ledgerId: string, db: Db = this.db): Promise<CheckpointRow | undefined> {
    const row = await db
      .selectFrom('ledger_checkpoints')
      .select(['size', 'note', 'created_at'])
      .where('ledger_id', '=', ledgerId)
      .orderBy('size', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row === undefined ? undefined : { size: row.size, note: row.note, createdAt: row.created_at };
  }

  async checkpointAt(ledgerId: string, size: number): Promise<CheckpointRow | undefined> {
    const row = await this.db
      .selectFrom('ledger_checkpoints')
      .select(['size', 'note', 'created_at'])
      .where('ledger_id', '=', ledgerId)
      .where('size', '=', size)
      .executeTakeFirst();
    return row === undefined ? undefined : { size: row.size, note: row.note, createdAt: row.created_at };
  }

  async checkpoints(ledgerId: string): Promise<CheckpointRow[]> {
    const rows = await this.db
      .selectFrom('ledger_checkpoints')
      .select(['size', 'note', 'created_at', 'prev_size'])
      .where('ledger_id', '=', ledgerId)
      .orderBy('size')
      .execute();
    return rows.map((r) => ({
      size: r.size,
      note: r.note,
      createdAt: r.created_at,
      prevSize: r.prev_size,
    }));
  }

  async insertTimestamp(ledgerId: string, row: TimestampRow): Promise<void> {
    await this.db
      .insertInto('ledger_timestamps')
      .values({
        ledger_id: ledgerId,
        size: row.size,
        token: row.token,
        tsa_url: row.tsaUrl,
        created_at: row.createdAt,
      })
      .onConflict((oc) => oc.columns(['ledger_id', 'size']).doNothing())
      .execute();
  }

  async timestamps(ledgerId: string): Promise<TimestampRow[]> {
    const rows = await this.db
      .selectFrom('ledger_timestamps')
      .selectAll()
      .where('ledger_id', '=', ledgerId)
      .orderBy('size')
      .execute();
    return rows.map((r) => ({
      size: r.size,
      token: asBuffer(r.token),
      tsaUrl: r.tsa_url,
      createdAt: r.created_at,
    }));
  }

  /**
   * Visit every entry in index order, in chunks. On SQLite the chunks are read through the raw
   * handle while Kysely's connection lock is held, so no in-process transaction is half-visible.
   */
  async scanEntries(ledgerId: string, visit: (row: EntryRow) => boolean): Promise<void> {
    let from = 0;
    for (;;) {
      const rows = await this.#entryChunk(ledgerId, from);
      for (const r of rows) if (!visit(r)) return;
      const last = rows.at(-1);
      if (last === undefined || rows.length < SCAN_CHUNK) return;
      from = last.idx + 1;
    }
  }

  async #entryChunk(ledgerId: string, from: number): Promise<EntryRow[]> {
    const raw = this.store.sqlite?.raw;
    if (raw !== undefined) {
      return this.db.connection().execute(() => {
        const stmt = raw.prepare(
          'select idx, entry, leaf_hash from ledger_entries where ledger_id = ? and idx >= ? order by idx limit ?',
        );
        stmt.setReturnArrays(true);
        const rows = stmt.all(ledgerId, from, SCAN_CHUNK) as unknown as [number, Uint8Array, Uint8Array][];
        return Promise.resolve(
          rows.map(([idx, entry, leafHash]) => ({
            idx: idx,
            entry: asBuffer(entry),
            leafHash: asBuffer(leafHash),
          })),
        );
      });
    }
    const rows = await this.db
      .selectFrom('ledger_entries')
      .select(['idx', 'entry', 'leaf_hash'])
      .where('ledger_id', '=', ledgerId)
      .where('idx', '>=', from)
      .orderBy('idx')
      .limit(SCAN_CHUNK)
      .execute();
    return rows.map((r) => ({
      idx: r.idx,
      entry: asBuffer(r.entry),
      leafHash: asBuffer(r.leaf_hash),
    }));
  }
}
