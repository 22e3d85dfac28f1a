// The SQLite writer thread: owns a second connection to the embedded database and turns each batch
// of entries into durable rows — BEGIN IMMEDIATE (the write lock), read the stored size, sequence
// the batch on the tree's right edge (inner nodes, completed tiles, a signed checkpoint when one is
// due), insert entries, tiles and checkpoint, COMMIT (fsync). The main thread validates and encodes
// events and computes their leaf hashes, while this thread commits the batch before. The stored
// size is read under the lock, so another process writing the same file simply moves the right
// edge, which is reloaded from storage.
import { DatabaseSync, type SQLInputValue, type StatementSync } from 'node:sqlite';
import { parentPort, workerData } from 'node:worker_threads';
import { ed25519Signer } from './note.ts';
import { Sequencer, type LockedView } from './sequencer.ts';
import { HASH_SIZE } from './hash.ts';

/** Register a ledger: its origin, checkpoint policy and signing key seed (zeroed once used). */
export interface OpenRequest {
  readonly type: 'open';
  readonly ledgerId: string;
  readonly origin: string;
  readonly keyName: string;
  readonly seed: Uint8Array;
  readonly checkpointEveryEntries: number;
}

export interface WriteRequest {
  readonly type: 'write';
  readonly id: number;
  readonly ledgerId: string;
  /** Entries back to back; `lengths[i]` is entry i's length. */
  readonly data: Uint8Array;
  readonly lengths: Uint32Array;
  /** The RFC 6962 leaf hash of each entry, back to back (HASH_SIZE bytes each). */
  readonly leafHashes: Uint8Array;
  /** Sign a checkpoint whenever entries are not covered yet (an empty batch signs only then). */
  readonly force: boolean;
}

export type WriteReply =
  | {
      readonly id: number;
      readonly ok: true;
      readonly first: number;
      readonly checkpoint?: { readonly size: number; readonly note: string };
    }
  | { readonly id: number; readonly error: string };

const { file } = workerData as { file: string };
const db = new DatabaseSync(file, { timeout: 10_000 });
db.exec('PRAGMA journal_mode = WAL');
db.exec('PRAGMA synchronous = FULL');
const sizeOf = db.prepare('select max(idx) as top from ledger_entries where ledger_id = ?');
const leafHashes = db.prepare(
  'select leaf_hash as h from ledger_entries where ledger_id = ? and idx >= ? and idx < ? order by idx',
);
const tileHashes = db.prepare(
  'select hash as h from ledger_tiles where ledger_id = ? and level = ? and idx >= ? and idx < ? order by idx',
);
const latestCheckpoint = db.prepare('select max(size) as s from ledger_checkpoints where ledger_id = ?');
const insertTile = db.prepare('insert into ledger_tiles (ledger_id, level, idx, hash) values (?, ?, ?, ?)');
const insertCheckpoint = db.prepare(
  'insert into ledger_checkpoints (ledger_id, size, note, created_at, prev_size) values (?, ?, ?, ?, (select max(size) from ledger_checkpoints where ledger_id = ?)) on conflict do nothing',
);

/** Rows per multi-row INSERT: 4 parameters each, well below SQLite's 32766 variables. */
const ROWS_PER_STATEMENT = 1024;
const inserts = new Map<number, StatementSync>();
const sequencers = new Map<string, Sequencer>();

function asBuffer(value: Uint8Array): Buffer {
  return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}

/** What the sequencer reads, through this connection, inside the open transaction. */
function view(ledgerId: string, size: number): LockedView {
  return {
    size,
    read: (level, from, to) => {
      const rows =
        level === 0 ? leafHashes.all(ledgerId, from, to) : tileHashes.all(ledgerId, level, from, to);
      return Promise.resolve((rows as { h: Uint8Array }[]).map((r) => asBuffer(r.h)));
    },
    latestCheckpointSize: () => {
      const row = latestCheckpoint.get(ledgerId) as { s: number | null };
      return Promise.resolve(row.s ?? undefined);
    },
  };
}

function insertEntries(
  ledgerId: string,
  first: number,
  entries: readonly Uint8Array[],
  hashes: readonly Buffer[],
): void {
  const count = entries.length;
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
      params[i * 4] = ledgerId;
      params[i * 4 + 1] = first + at + i;
      params[i * 4 + 2] = entries[at + i] ?? new Uint8Array(0);
      params[i * 4 + 3] = hashes[at + i] ?? new Uint8Array(0);
    }
    stmt.run(...params);
  }
}

function split(data: Uint8Array, lengths: Uint32Array): Uint8Array[] {
  const out = new Array<Uint8Array>(lengths.length);
  let offset = 0;
  for (let i = 0; i < lengths.length; i++) {
    const len = lengths[i] ?? 0;
    out[i] = data.subarray(offset, offset + len);
    offset += len;
  }
  return out;
}

/** Ledgers whose registration failed, with why: their writes are refused with that reason. */
const unopened = new Map<string, string>();

function open(r: OpenRequest): void {
  try {
    unopened.delete(r.ledgerId);
    sequencers.set(
      r.ledgerId,
      new Sequencer(r.origin, ed25519Signer(r.keyName, r.seed), r.checkpointEveryEntries),
    );
  } catch (err) {
    unopened.set(r.ledgerId, err instanceof Error ? err.message : 'ledger key refused');
  } finally {
    r.seed.fill(0);
  }
}

async function write(r: WriteRequest): Promise<WriteReply> {
  const sequencer = sequencers.get(r.ledgerId);
  if (sequencer === undefined)
    return { id: r.id, error: unopened.get(r.ledgerId) ?? 'ledger not opened in the writer thread' };
  db.exec('begin immediate');
  try {
    const top = (sizeOf.get(r.ledgerId) as { top: number | null }).top;
    const entries = split(r.data, r.lengths);
    const leafHashes = entries.map((_, i) =>
      asBuffer(r.leafHashes.subarray(i * HASH_SIZE, (i + 1) * HASH_SIZE)),
    );
    const b = await sequencer.sequence(
      view(r.ledgerId, top === null ? 0 : top + 1),
      entries,
      leafHashes,
      r.force,
    );
    insertEntries(r.ledgerId, b.first, entries, b.leafHashes);
    for (const t of b.tiles) insertTile.run(r.ledgerId, t.level, t.index, t.hash);
    const cp = b.checkpoint;
    if (cp !== undefined)
      insertCheckpoint.run(r.ledgerId, cp.size, cp.note, new Date().toISOString(), r.ledgerId);
    db.exec('commit');
    return cp === undefined
      ? { id: r.id, ok: true, first: b.first }
      : { id: r.id, ok: true, first: b.first, checkpoint: { size: cp.size, note: cp.note } };
  } catch (err) {
    if (db.isTransaction) db.exec('rollback');
    // The right edge may hold the rolled-back batch: reload it from storage next time.
    sequencer.reset();
    return { id: r.id, error: err instanceof Error ? err.message : 'write failed' };
  }
}

// Messages are handled one at a time, in order (sequencing is asynchronous only in form).
let queue: Promise<void> = Promise.resolve();
parentPort?.on('message', (m: OpenRequest | WriteRequest | 'close') => {
  queue = queue.then(async () => {
    if (m === 'close') {
      db.close();
      parentPort?.close();
      return;
    }
    if (m.type === 'open') open(m);
    else parentPort?.postMessage(await write(m));
  });
});
