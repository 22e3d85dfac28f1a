// One ledger: appends (checked, canonicalized, group-committed through the ledger writer),
// checkpoint issuing (every N entries, and T ms after an append left entries uncovered), and the
// read side: proofs, tiles and checkpoints from storage.
import { CustosError } from '../errors/index.ts';
import type { AuditEvent } from './audit-sink.ts';
import { openCheckpoint, type SignedCheckpoint } from './checkpoint.ts';
import { checkEvent, entryText } from './events.ts';
import { GroupCommit } from './group-commit.ts';
import { openLedgerSigner, type SealingKeyProvider } from './ledger-key.ts';
import type { LedgerRecord, LedgerStore } from './ledger-store.ts';
import { readNodes, type TileCache } from './node-reader.ts';
import { ed25519Verifier, formatVerifierKey, type NoteSigner, type NoteVerifier } from './note.ts';
import { consistencyRanges, hashRanges, inclusionRanges } from './proof.ts';
import type { LevelReader } from './tile-state.ts';
import type { LedgerWriter, WriteResult } from './ledger-writer.ts';
import { encodeEntryBundle, encodeHashTile, tileWidthFor, TILE_WIDTH, type TileRef } from './tiles.ts';
import { formatTlogProof } from './tlog-proof.ts';
import { ed25519PublicFromRaw } from '../crypto/index.ts';
import { defined } from './must.ts';

/** The ledger part of the Custos configuration. */
export interface LedgerSettings {
  readonly originPrefix: string;
  readonly checkpointEveryEntries: number;
  readonly checkpointIntervalMs: number;
  readonly maxBatchWaitMs: number;
  readonly maxBatchSize: number;
  readonly publicLedgers: readonly string[];
  readonly tsaUrl?: string;
  readonly tsaTimeoutMs?: number;
  readonly applicationRole?: string;
}

export interface LedgerContext {
  readonly store: LedgerStore;
  readonly root: SealingKeyProvider;
  readonly settings: LedgerSettings;
  readonly cache: TileCache;
  readonly writer: LedgerWriter;
  /** Called after a checkpoint is stored (time-stamping hooks in here). */
  readonly onCheckpoint: (ledger: Ledger) => void;
  readonly onError: (err: unknown, context: string) => void;
}

export interface AppendReceipt {
  readonly ledger: string;
  readonly index: number;
}

export interface InclusionProof {
  readonly index: number;
  readonly treeSize: number;
  readonly leafHash: Buffer;
  readonly entry: Buffer;
  readonly proof: readonly Buffer[];
  readonly checkpoint: SignedCheckpoint;
}

export interface ConsistencyProof {
  readonly from: number;
  readonly to: number;
  readonly fromRoot: Buffer;
  readonly toRoot: Buffer;
  readonly proof: readonly Buffer[];
}

/** Entries read per query by `read`. */
const READ_PAGE = 1000;

export class Ledger {
  readonly id: string;
  readonly origin: string;
  readonly keyName: string;
  readonly publicKey: Buffer;
  readonly verifier: NoteVerifier;
  readonly #record: LedgerRecord;
  readonly #ctx: LedgerContext;
  readonly #group: GroupCommit<Buffer, AppendReceipt>;
  #signer: Promise<NoteSigner> | undefined;
  /** Entries this process knows are committed, and the size the newest checkpoint it knows covers. */
  #committed = 0;
  #checkpointed = -1;
  #serial: Promise<unknown> = Promise.resolve();
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  #verified: SignedCheckpoint | undefined;

  constructor(record: LedgerRecord, ctx: LedgerContext) {
    this.#record = record;
    this.#ctx = ctx;
    this.id = record.id;
    this.origin = record.origin;
    this.keyName = record.keyName;
    this.publicKey = record.publicKey;
    this.verifier = ed25519Verifier(record.keyName, ed25519PublicFromRaw(record.publicKey), record.publicKey);
    this.#group = new GroupCommit({
      maxBatchSize: ctx.settings.maxBatchSize,
      maxWaitMs: ctx.settings.maxBatchWaitMs,
      concurrency: ctx.writer.concurrency,
      commit: (items) => this.#commit(items),
    });
  }

  /** The verifier key in signed-note form: `<name>+<key id>+<base64(0x01 || key)>`. */
  get verifierKey(): string {
    return formatVerifierKey(this.keyName, this.publicKey);
  }

  get keyId(): number {
    return this.verifier.keyId;
  }

  /**
   * Append one event; resolves with its index once it is durable.
   * Throws LEDGER_EVENT_INVALID, LEDGER_ENTRY_TOO_LARGE, LEDGER_APPEND_FAILED, LEDGER_CLOSED.
   */
  append(event: AuditEvent): Promise<AppendReceipt> {
    try {
      if (this.#closed) throw closedError(this.id);
      return this.#group.submit(this.#pending(entryText(checkEvent(event))));
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  /** Append events in order after checking all of them; nothing is written when one is invalid. */
  async appendMany(events: readonly AuditEvent[], where?: (i: number) => string): Promise<AppendReceipt[]> {
    if (this.#closed) throw closedError(this.id);
    const entries = events.map((e, i) =>
      this.#pending(entryText(checkEvent(e, where?.(i) ?? ''), where?.(i) ?? '')),
    );
    return Promise.all(entries.map((e) => this.#group.submit(e)));
  }

  /** Entries committed so far. */
  async size(): Promise<number> {
    return this.#ctx.store.size(this.id);
  }

  /**
   * Entries [from, to) with their indexes, read page by page (`to` defaults to the size now).
   * Throws LEDGER_INDEX_OUT_OF_RANGE when the range is not within the ledger.
   */
  async *read(from: number, to?: number): AsyncGenerator<{ readonly index: number; readonly entry: Buffer }> {
    const size = await this.size();
    const end = to ?? size;
    if (!Number.isSafeInteger(from) || !Number.isSafeInteger(end) || from < 0 || from > end || end > size) {
      throw new CustosError(
        'LEDGER_INDEX_OUT_OF_RANGE',
        `Range ${from}..${end} is not within ledger ${this.id}`,
        {
          details: { field: to === undefined ? 'from' : 'to', rule: `0 ≤ from ≤ to ≤ ${size}`, size },
        },
      );
    }
    for (let at = from; at < end; at += READ_PAGE) {
      const page = await this.#ctx.store.entries(this.id, at, Math.min(end, at + READ_PAGE));
      for (const [i, entry] of page.entries()) yield { index: at + i, entry };
    }
  }

  /** The newest stored checkpoint, verified. Undefined before the first one. */
  async latestCheckpoint(): Promise<SignedCheckpoint | undefined> {
    const row = await this.#ctx.store.latestCheckpoint(this.id);
    if (row === undefined) return undefined;
    // Verified notes are remembered by their exact text; any other text is verified again.
    if (this.#verified?.note !== row.note)
      this.#verified = openCheckpoint(row.note, this.verifier, this.origin);
    return this.#verified;
  }

  /** A checkpoint covering every committed entry, signing a new one when the newest does not. */
  async checkpoint(): Promise<SignedCheckpoint> {
    await this.#group.flush();
    await this.#exclusive(() => this.#issueCheckpoint());
    const latest = await this.latestCheckpoint();
    if (latest === undefined) throw new Error('checkpoint was not stored');
    return latest;
  }

  /** MTH(D[0:size]) from stored tiles. Throws LEDGER_INDEX_OUT_OF_RANGE beyond the ledger. */
  async rootAt(size: number): Promise<Buffer> {
    await this.#requireSize(size, 'size');
    const [root] = await hashRanges([{ lo: 0, hi: size }], (nodes) => this.#readNodes(nodes, size));
    return defined(root, 'root');
  }

  /**
   * Inclusion proof of entry `index` in the tree of the newest checkpoint (issued first when it does
   * not cover `index` yet). Throws LEDGER_INDEX_OUT_OF_RANGE.
   */
  async inclusionProof(index: number): Promise<InclusionProof> {
    const size = await this.size();
    if (!Number.isSafeInteger(index) || index < 0 || index >= size) {
      throw new CustosError(
        'LEDGER_INDEX_OUT_OF_RANGE',
        `Index ${index} is beyond ledger ${this.id} (size ${size})`,
        {
          details: { field: 'index', rule: `0 ≤ index < ${size}`, index, size },
        },
      );
    }
    let checkpoint = await this.latestCheckpoint();
    if (checkpoint === undefined || checkpoint.size <= index) checkpoint = await this.checkpoint();
    const treeSize = checkpoint.size;
    const ranges = inclusionRanges(index, treeSize);
    const proof = await hashRanges(ranges, (nodes) => this.#readNodes(nodes, treeSize));
    const [entry] = await this.#ctx.store.entries(this.id, index, index + 1);
    const [leafHash] = await this.#ctx.store.leafHashes(this.id, index, index + 1);
    return {
      index,
      treeSize,
      leafHash: defined(leafHash, 'leaf hash'),
      entry: defined(entry, 'entry'),
      proof,
      checkpoint,
    };
  }

  /**
   * The inclusion proof as a C2SP tlog-proof@v1 file. The entry travels as its `extra` data, so
   * the file alone proves the event: its leaf hash must lead to the signed root.
   */
  async tlogProof(index: number): Promise<string> {
    const p = await this.inclusionProof(index);
    return formatTlogProof({ index: p.index, proof: p.proof, checkpoint: p.checkpoint.note, extra: p.entry });
  }

  /** Consistency proof between tree sizes `from` ≤ `to`. Throws LEDGER_INDEX_OUT_OF_RANGE. */
  async consistencyProof(from: number, to: number): Promise<ConsistencyProof> {
    await this.#requireSize(to, 'to');
    const ranges = consistencyRanges(from, to);
    const [proof, [fromRoot, toRoot]] = await Promise.all([
      hashRanges(ranges, (nodes) => this.#readNodes(nodes, to)),
      hashRanges(
        [
          { lo: 0, hi: from },
          { lo: 0, hi: to },
        ],
        (nodes) => this.#readNodes(nodes, to),
      ),
    ]);
    return { from, to, fromRoot: defined(fromRoot, 'old root'), toRoot: defined(toRoot, 'new root'), proof };
  }

  /**
   * A tile or entry bundle of the tree of the newest checkpoint, byte-exact to C2SP tlog-tiles.
   * Throws LEDGER_TILE_NOT_FOUND when no such tile exists at that size.
   */
  async tile(ref: TileRef): Promise<Buffer> {
    const checkpoint = await this.#ctx.store.latestCheckpoint(this.id);
    const size = checkpoint?.size ?? 0;
    const level = ref.kind === 'entries' ? 0 : ref.level;
    const available = tileWidthFor(size, level, ref.index);
    const width = ref.width ?? TILE_WIDTH;
    if (available === 0 || width > available) {
      throw new CustosError('LEDGER_TILE_NOT_FOUND', 'No such tile in the newest checkpoint', {
        details: { field: 'path', rule: `tile width ≤ ${available} at this index`, available },
      });
    }
    const from = ref.index * TILE_WIDTH;
    if (ref.kind === 'entries')
      return encodeEntryBundle(await this.#ctx.store.entries(this.id, from, from + width));
    return encodeHashTile(await this.#levelReader()(level, from, from + width));
  }

  /** Commit everything submitted, sign a checkpoint over it, stop the timer. */
  async close(): Promise<void> {
    await this.flush();
    this.#closed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Commit everything submitted and sign a checkpoint if entries are pending. */
  async flush(): Promise<void> {
    await this.#group.flush();
    if (this.#committed > this.#checkpointed) await this.#exclusive(() => this.#issueCheckpoint());
  }

  /** The signer, unsealed on first use. */
  signer(): Promise<NoteSigner> {
    this.#signer ??= openLedgerSigner(
      this.#ctx.root,
      this.id,
      this.keyName,
      this.publicKey,
      this.#record.sealedSeed,
    );
    this.#signer.catch(() => {
      this.#signer = undefined;
    });
    return this.#signer;
  }

  async #requireSize(size: number, field: string): Promise<void> {
    const current = await this.size();
    if (!Number.isSafeInteger(size) || size < 0 || size > current) {
      throw new CustosError(
        'LEDGER_INDEX_OUT_OF_RANGE',
        `${field} ${size} is beyond ledger ${this.id} (size ${current})`,
        {
          details: { field, rule: `0 ≤ ${field} ≤ ${current}`, size: current },
        },
      );
    }
  }

  #levelReader(): LevelReader {
    const store = this.#ctx.store;
    return (level, from, to) =>
      level === 0 ? store.leafHashes(this.id, from, to) : store.tileHashes(this.id, level, from, to);
  }

  #readNodes(nodes: Parameters<typeof readNodes>[0], size: number): Promise<Buffer[]> {
    return readNodes(nodes, size, this.#levelReader(), this.#ctx.cache, this.id);
  }

  /** Run write-side work one at a time within this process (the DB lock orders processes). */
  #exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#serial.then(fn, fn);
    this.#serial = run.catch(() => undefined);
    return run;
  }

  /** An entry ready to submit, hashed now so the hashing overlaps the batch being committed. */
  /** An entry's UTF-8 bytes; the writer hashes them (the SQLite writer thread, off this one). */
  #pending(text: string): Buffer {
    return Buffer.from(text, 'utf8');
  }

  async #commit(entries: readonly Buffer[]): Promise<AppendReceipt[]> {
    const result = await this.#ctx.writer.append(this.#record, entries);
    this.#committed = Math.max(this.#committed, result.first + entries.length);
    this.#afterWrite(result);
    const receipts = new Array<AppendReceipt>(entries.length);
    for (let i = 0; i < entries.length; i++) receipts[i] = { ledger: this.id, index: result.first + i };
    return receipts;
  }

  async #issueCheckpoint(): Promise<void> {
    const checkpoint = await this.#ctx.writer.checkpoint(this.#record);
    if (checkpoint !== undefined) this.#committed = Math.max(this.#committed, checkpoint.size);
    this.#afterWrite({ first: this.#committed, ...(checkpoint === undefined ? {} : { checkpoint }) });
  }

  #afterWrite(result: WriteResult): void {
    if (result.checkpoint !== undefined) this.#checkpointIssued(result.checkpoint.size);
    else if (this.#committed > this.#checkpointed) this.#armTimer();
  }

  #checkpointIssued(size: number): void {
    this.#checkpointed = Math.max(this.#checkpointed, size);
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#ctx.onCheckpoint(this);
  }

  /** Entries are pending a checkpoint: sign one after checkpointIntervalMs unless a batch does first. */
  #armTimer(): void {
    if (this.#timer !== undefined || this.#closed) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#exclusive(() => this.#issueCheckpoint()).catch((err: unknown) => {
        this.#ctx.onError(err, `checkpoint of ledger ${this.id}`);
      });
    }, this.#ctx.settings.checkpointIntervalMs);
    this.#timer.unref();
  }
}

function closedError(id: string): CustosError {
  return new CustosError('LEDGER_CLOSED', `Ledger ${id} is closed`, {
    details: { field: 'ledger', rule: 'open ledger' },
  });
}
