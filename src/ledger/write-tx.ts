// The sequencer's transaction: the ledger's write lock, the stored size, reads of the right edge,
// and one write of entries, completed tiles and a checkpoint. It speaks to the drivers directly:
// on SQLite the raw handle under BEGIN IMMEDIATE (holding Kysely's only connection so nothing else
// interleaves); on PostgreSQL one pooled client, where BEGIN, the advisory lock and the size read
// share a round trip and every insert of the batch is one statement, so a batch costs what a raw
// insert of the same rows does plus one SELECT.
import type { DatabaseSync } from 'node:sqlite';
import type pg from 'pg';
import { CustosError } from '../errors/index.ts';
import { asBuffer, nowIso, type Store } from '../store/index.ts';
import { advisoryLockKey, type TileRow } from './ledger-store.ts';
import type { LevelReader } from './tile-state.ts';

export interface PendingRow {
  readonly entry: Buffer;
  readonly leafHash: Buffer;
}

export interface WriteTx {
  /** Entries stored when the lock was taken (one past the highest index). */
  readonly size: number;
  readonly read: LevelReader;
  latestCheckpointSize(): Promise<number | undefined>;
  /** Insert `rows` at first, first + 1, …, the completed tiles and an optional checkpoint. */
  insert(
    first: number,
    rows: readonly PendingRow[],
    tiles: readonly TileRow[],
    checkpoint?: { size: number; note: string },
  ): Promise<void>;
}

/** Rows per INSERT statement: 4 parameters each stays below PostgreSQL's 65535. */
const PG_ROWS_PER_STATEMENT = 8000;
/** Ledger ids are inlined in one simple-protocol query; only this alphabet can be. */
const SAFE_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** Run `fn` holding the ledger's write lock; commit when it resolves. Throws LEDGER_APPEND_FAILED. */
export async function withWriteTx<T>(
  store: Store,
  ledgerId: string,
  fn: (tx: WriteTx) => Promise<T>,
): Promise<T> {
  try {
    if (store.pool !== undefined) return await postgresTx(store.pool, ledgerId, fn);
    const raw = store.sqlite?.raw;
    if (raw === undefined) throw new Error('store has neither a pool nor a SQLite handle');
    // The connection mutex keeps other in-process queries out of the transaction.
    return await store.db.connection().execute(() => sqliteTx(raw, ledgerId, fn));
  } catch (cause) {
    if (cause instanceof CustosError) throw cause;
    throw new CustosError('LEDGER_APPEND_FAILED', 'The ledger write was not committed', {
      cause,
      details: { field: 'ledger', rule: 'database accepts the append', ledger: ledgerId },
    });
  }
}

async function sqliteTx<T>(raw: DatabaseSync, ledgerId: string, fn: (tx: WriteTx) => Promise<T>): Promise<T> {
  // BEGIN IMMEDIATE takes the write lock up front, so two processes never both read the same size.
  raw.exec('begin immediate');
  try {
    const top = raw
      .prepare('select max(idx) as top from ledger_entries where ledger_id = ?')
      .get(ledgerId) as { top: number | null };
    const entries = raw.prepare(
      'insert into ledger_entries (ledger_id, idx, entry, leaf_hash) values (?, ?, ?, ?)',
    );
    const tx: WriteTx = {
      size: top.top === null ? 0 : top.top + 1,
      read: (level, from, to) => {
        const rows =
          level === 0
            ? raw
                .prepare(
                  'select leaf_hash as h from ledger_entries where ledger_id = ? and idx >= ? and idx < ? order by idx',
                )
                .all(ledgerId, from, to)
            : raw
                .prepare(
                  'select hash as h from ledger_tiles where ledger_id = ? and level = ? and idx >= ? and idx < ? order by idx',
                )
                .all(ledgerId, level, from, to);
        return Promise.resolve((rows as { h: Uint8Array }[]).map((r) => asBuffer(r.h)));
      },
      latestCheckpointSize: () => {
        const row = raw
          .prepare('select max(size) as s from ledger_checkpoints where ledger_id = ?')
          .get(ledgerId) as { s: number | null };
        return Promise.resolve(row.s ?? undefined);
      },
      insert: (first, rows, tiles, checkpoint) => {
        rows.forEach((r, i) => entries.run(ledgerId, first + i, r.entry, r.leafHash));
        if (tiles.length > 0) {
          const insertTile = raw.prepare(
            'insert into ledger_tiles (ledger_id, level, idx, hash) values (?, ?, ?, ?)',
          );
          for (const t of tiles) insertTile.run(ledgerId, t.level, t.index, t.hash);
        }
        if (checkpoint !== undefined) {
          raw
            .prepare(
              'insert into ledger_checkpoints (ledger_id, size, note, created_at, prev_size) values (?, ?, ?, ?, (select max(size) from ledger_checkpoints where ledger_id = ?)) on conflict do nothing',
            )
            .run(ledgerId, checkpoint.size, checkpoint.note, nowIso(), ledgerId);
        }
        return Promise.resolve();
      },
    };
    const result = await fn(tx);
    raw.exec('commit');
    return result;
  } catch (err) {
    if (raw.isTransaction) raw.exec('rollback');
    throw err;
  }
}

const statements = new Map<string, string>();

function values(n: number, width: number, offset: number): string {
  return Array.from(
    { length: n },
    (_, i) => `(${Array.from({ length: width }, (_, j) => `$${offset + i * width + j + 1}`).join(', ')})`,
  ).join(', ');
}

/** One statement inserting entries, tiles and a checkpoint (data-modifying CTEs), cached by shape. */
function pgInsertText(entries: number, tiles: number, checkpoint: boolean): string {
  const key = `${entries}/${tiles}/${checkpoint}`;
  let text = statements.get(key);
  if (text === undefined) {
    const parts: string[] = [];
    let at = 0;
    if (entries > 0) {
      parts.push(
        `e as (insert into ledger_entries (ledger_id, idx, entry, leaf_hash) values ${values(entries, 4, at)})`,
      );
      at += entries * 4;
    }
    if (tiles > 0) {
      parts.push(
        `t as (insert into ledger_tiles (ledger_id, level, idx, hash) values ${values(tiles, 4, at)})`,
      );
      at += tiles * 4;
    }
    const main = checkpoint
      ? `insert into ledger_checkpoints (ledger_id, size, note, created_at, prev_size) select $${at + 1}::text, $${at + 2}::bigint, $${at + 3}::text, $${at + 4}::text, (select max(size) from ledger_checkpoints where ledger_id = $${at + 1}::text) on conflict do nothing`
      : 'select 1';
    text = parts.length === 0 ? main : `with ${parts.join(', ')} ${main}`;
    statements.set(key, text);
  }
  return text;
}

async function postgresTx<T>(pool: pg.Pool, ledgerId: string, fn: (tx: WriteTx) => Promise<T>): Promise<T> {
  if (!SAFE_ID.test(ledgerId)) throw new Error('ledger id cannot be inlined');
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    // One round trip: each statement of a simple query gets its own snapshot, so the size is read
    // after the advisory lock is held and sees every entry committed by the previous holder.
    const results = (await client.query(
      `begin; select pg_advisory_xact_lock(${advisoryLockKey(ledgerId)}); select max(idx) as top from ledger_entries where ledger_id = '${ledgerId}'`,
    )) as unknown as pg.QueryResult<{ top: string | number | null }>[];
    const top = results[2]?.rows[0]?.top ?? null;
    const tx: WriteTx = {
      size: top === null ? 0 : Number(top) + 1,
      read: async (level, from, to) => {
        const r =
          level === 0
            ? await client.query<{ h: Buffer }>(
                'select leaf_hash as h from ledger_entries where ledger_id = $1 and idx >= $2 and idx < $3 order by idx',
                [ledgerId, from, to],
              )
            : await client.query<{ h: Buffer }>(
                'select hash as h from ledger_tiles where ledger_id = $1 and level = $2 and idx >= $3 and idx < $4 order by idx',
                [ledgerId, level, from, to],
              );
        return r.rows.map((row) => row.h);
      },
      latestCheckpointSize: async () => {
        const r = await client.query<{ s: string | number | null }>(
          'select max(size) as s from ledger_checkpoints where ledger_id = $1',
          [ledgerId],
        );
        const s = r.rows[0]?.s ?? null;
        return s === null ? undefined : Number(s);
      },
      insert: async (first, rows, tiles, checkpoint) => {
        for (
          let at = 0;
          at < rows.length || (at === 0 && (tiles.length > 0 || checkpoint !== undefined));
          at += PG_ROWS_PER_STATEMENT
        ) {
          const chunk = rows.slice(at, at + PG_ROWS_PER_STATEMENT);
          const last = at + PG_ROWS_PER_STATEMENT >= rows.length;
          const params: unknown[] = [];
          chunk.forEach((r, i) => params.push(ledgerId, first + at + i, r.entry, r.leafHash));
          const withTiles = last ? tiles : [];
          for (const t of withTiles) params.push(ledgerId, t.level, t.index, t.hash);
          const cp = last ? checkpoint : undefined;
          if (cp !== undefined) params.push(ledgerId, cp.size, cp.note, nowIso());
          await client.query(pgInsertText(chunk.length, withTiles.length, cp !== undefined), params);
        }
      },
    };
    const result = await fn(tx);
    await client.query('commit');
    return result;
  } catch (err) {
    await client.query('rollback').catch((e: unknown) => {
      broken = e instanceof Error ? e : new Error('rollback failed');
    });
    throw err;
  } finally {
    client.release(broken);
  }
}
