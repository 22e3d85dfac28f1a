// The SQLite writer thread: owns a second connection to the embedded database and commits each
// batch the main thread sequenced — BEGIN IMMEDIATE, check the stored size is the one the batch
// was sequenced on, insert entries, completed tiles and a checkpoint, COMMIT (fsync) — so the
// fsync never blocks the main thread. Self-contained (node: modules only) and plain Node.
import { DatabaseSync, type SQLInputValue, type StatementSync } from 'node:sqlite';
import { parentPort, workerData } from 'node:worker_threads';

export interface WriteRequest {
  readonly id: number;
  readonly ledgerId: string;
  /** The stored size the batch was sequenced on; the write is refused when it differs. */
  readonly first: number;
  /** Entries back to back; `lengths[i]` is entry i's length. */
  readonly data: Uint8Array;
  readonly lengths: Uint32Array;
  /** Leaf hashes, 32 bytes each, in entry order. */
  readonly hashes: Uint8Array;
  readonly tiles: readonly { readonly level: number; readonly index: number; readonly hash: Uint8Array }[];
  readonly checkpoint?: { readonly size: number; readonly note: string; readonly createdAt: string };
}

export type WriteReply =
  | { readonly id: number; readonly ok: true }
  | { readonly id: number; readonly ok: false; readonly size: number }
  | { readonly id: number; readonly error: string };

const { file } = workerData as { file: string };
const db = new DatabaseSync(file, { timeout: 10_000 });
db.exec('PRAGMA journal_mode = WAL');
db.exec('PRAGMA synchronous = FULL');
const sizeOf = db.prepare('select max(idx) as top from ledger_entries where ledger_id = ?');
const insertTile = db.prepare('insert into ledger_tiles (ledger_id, level, idx, hash) values (?, ?, ?, ?)');
const insertCheckpoint = db.prepare(
  'insert into ledger_checkpoints (ledger_id, size, note, created_at, prev_size) values (?, ?, ?, ?, (select max(size) from ledger_checkpoints where ledger_id = ?)) on conflict do nothing',
);

/** Rows per multi-row INSERT: 4 parameters each, well below SQLite's 32766 variables. */
const ROWS_PER_STATEMENT = 1024;
const inserts = new Map<number, StatementSync>();

function insertEntries(r: WriteRequest): void {
  const count = r.lengths.length;
  let offset = 0;
  for (let at = 0; at < count; at += ROWS_PER_STATEMENT) {
    const n = Math.min(ROWS_PER_STATEMENT, count - at);
    let stmt = inserts.get(n);
    if (stmt === undefined) {
      stmt = db.prepare(
        `insert into ledger_entries (ledger_id, idx, entry, leaf_hash) values ${Array<string>(n).fill('(?, ?, ?, ?)').join(', ')}`,
      );
      inserts.set(n, stmt);
    }
    const params = new Array<SQLInputValue>(n * 4);
    for (let i = 0; i < n; i++) {
      const len = r.lengths[at + i] ?? 0;
      params[i * 4] = r.ledgerId;
      params[i * 4 + 1] = r.first + at + i;
      params[i * 4 + 2] = r.data.subarray(offset, offset + len);
      params[i * 4 + 3] = r.hashes.subarray((at + i) * 32, (at + i) * 32 + 32);
      offset += len;
    }
    stmt.run(...params);
  }
}

function write(r: WriteRequest): WriteReply {
  db.exec('begin immediate');
  try {
    const top = (sizeOf.get(r.ledgerId) as { top: number | null }).top;
    const size = top === null ? 0 : top + 1;
    if (size !== r.first) {
      db.exec('rollback');
      return { id: r.id, ok: false, size };
    }
    insertEntries(r);
    for (const t of r.tiles) insertTile.run(r.ledgerId, t.level, t.index, t.hash);
    const cp = r.checkpoint;
    if (cp !== undefined) insertCheckpoint.run(r.ledgerId, cp.size, cp.note, cp.createdAt, r.ledgerId);
    db.exec('commit');
    return { id: r.id, ok: true };
  } catch (err) {
    if (db.isTransaction) db.exec('rollback');
    return { id: r.id, error: err instanceof Error ? err.message : 'write failed' };
  }
}

parentPort?.on('message', (m: WriteRequest | 'close') => {
  if (m === 'close') {
    db.close();
    parentPort?.close();
    return;
  }
  parentPort?.postMessage(write(m));
});
