// Full verification of a stored ledger: recompute every leaf hash from the entries, the tree from
// the leaves (checking every stored full-tile hash), every stored checkpoint's signature and root,
// and consistency with a checkpoint kept elsewhere. The first failure is reported by code, naming
// the index, tile or checkpoint size.
import { constantTimeEqual } from '../crypto/index.ts';
import { CustosError, type ErrorCode } from '../errors/index.ts';
import { openCheckpoint, type SignedCheckpoint } from './checkpoint.ts';
import { EMPTY_ROOT, hashLeaf } from './hash.ts';
import type { Ledger } from './ledger.ts';
import type { CheckpointRow, LedgerStore } from './ledger-store.ts';
import { parseVerifierKey, sameKey, type NoteVerifier } from './note.ts';
import { checkpointDigest, inspectTimestampToken, type TimestampInfo } from './timestamp.ts';
import { CompactRange } from './tree.ts';
import { TILE_HEIGHT } from './tiles.ts';
import { verifyConsistency } from './verify-proof.ts';

export interface VerifyOptions {
  /** A signed checkpoint kept elsewhere (its note text): the ledger must have only grown since. */
  readonly checkpoint?: string;
  /** The verifier key kept elsewhere; the stored public key must be this key. */
  readonly verifierKey?: string;
  /** Also prove the sealed signing key opens to the stored public key (needs the root key). */
  readonly checkSigningKey?: boolean;
}

export interface VerifyFailure {
  readonly code: ErrorCode;
  readonly message: string;
  readonly details: Readonly<Record<string, unknown>>;
}

export interface TimestampReport extends TimestampInfo {
  readonly size: number;
  readonly tsaUrl: string;
}

export interface VerifyReport {
  readonly ledger: string;
  readonly origin: string;
  readonly verifierKey: string;
  readonly ok: boolean;
  readonly size: number;
  readonly checkpoints: number;
  readonly latestCheckpointSize?: number;
  /** Entries after the newest checkpoint: not yet covered by a signature. */
  readonly pending: number;
  readonly externalCheckpointSize?: number;
  readonly timestamps: readonly TimestampReport[];
  readonly failure?: VerifyFailure;
}

class Failure extends Error {
  readonly failure: VerifyFailure;
  constructor(code: ErrorCode, message: string, details: Record<string, unknown>) {
    super(message);
    this.failure = { code, message, details };
  }
}

function fail(code: ErrorCode, message: string, details: Record<string, unknown>): never {
  throw new Failure(code, message, details);
}

function openStored(note: string, size: number, verifier: NoteVerifier, origin: string): SignedCheckpoint {
  try {
    const c = openCheckpoint(note, verifier, origin);
    if (c.size !== size) {
      fail('LEDGER_CHECKPOINT_MALFORMED', `Checkpoint stored for size ${size} says size ${c.size}`, {
        field: `checkpoint ${size}`,
        rule: 'note size equals the stored size',
        checkpointSize: size,
      });
    }
    return c;
  } catch (err) {
    if (err instanceof CustosError) {
      fail(err.code, `Checkpoint at size ${size}: ${err.message}`, {
        ...err.details,
        field: `checkpoint ${size}`,
        checkpointSize: size,
      });
    }
    throw err;
  }
}

/**
 * Each checkpoint row names the size of the one stored before it: a row deleted between two others
 * breaks the chain and is named by its size. (Rows from before the chain existed name none.)
 */
function checkChain(rows: readonly CheckpointRow[]): void {
  let previous: number | null = null;
  for (const row of rows) {
    if (row.prevSize !== undefined && row.prevSize !== null && row.prevSize !== previous) {
      const missing = previous === null || row.prevSize > previous;
      fail(
        'LEDGER_CHECKPOINT_MISSING',
        missing
          ? `The checkpoint at size ${row.prevSize} is missing (the one at size ${row.size} follows it)`
          : `The checkpoint at size ${row.size} follows size ${row.prevSize}, not ${previous}`,
        {
          field: `checkpoint ${row.prevSize}`,
          rule: 'every stored checkpoint is kept',
          checkpointSize: row.prevSize,
        },
      );
    }
    previous = row.size;
  }
}

/** Verify a ledger end to end. Integrity failures are reported in the result, not thrown. */
export async function verifyLedger(
  ledger: Ledger,
  store: LedgerStore,
  options: VerifyOptions = {},
): Promise<VerifyReport> {
  const base = { ledger: ledger.id, origin: ledger.origin, verifierKey: ledger.verifierKey };
  let size = 0;
  let stored: SignedCheckpoint[] = [];
  let external: SignedCheckpoint | undefined;
  const timestamps: TimestampReport[] = [];
  try {
    const verifier = checkKeys(ledger, options);
    if (options.checkSigningKey === true) {
      try {
        await ledger.signer();
      } catch (err) {
        if (err instanceof CustosError) fail(err.code, err.message, { ...err.details });
        throw err;
      }
    }
    const rows = await store.checkpoints(ledger.id);
    checkChain(rows);
    stored = rows.map((row) => openStored(row.note, row.size, verifier, ledger.origin));
    if (options.checkpoint !== undefined)
      external = openExternal(options.checkpoint, verifier, ledger.origin);
    size = await recompute(ledger.id, store, stored, external);
    if (size > 0 && stored.length === 0) {
      fail(
        'LEDGER_CHECKPOINT_MISSING',
        `No signed checkpoint covers the ${size} entries of ledger ${ledger.id}`,
        {
          field: 'checkpoints',
          rule: 'at least one signed checkpoint',
        },
      );
    }
    if (external !== undefined && external.size > 0) {
      // Proved from stored tiles, as a client would: the kept checkpoint's tree is a prefix of today's.
      const latest = stored.at(-1);
      if (latest !== undefined && latest.size >= external.size) {
        const p = await ledger.consistencyProof(external.size, latest.size);
        try {
          verifyConsistency(external.size, latest.size, p.proof, external.root, latest.root);
        } catch (err) {
          if (err instanceof CustosError)
            fail(err.code, err.message, { ...err.details, checkpointSize: external.size });
          throw err;
        }
      }
    }
    for (const row of await store.timestamps(ledger.id)) {
      const checkpoint = stored.find((c) => c.size === row.size);
      if (checkpoint === undefined) {
        fail('LEDGER_TIMESTAMP_INVALID', `Time-stamp token for size ${row.size} has no checkpoint`, {
          field: `timestamp ${row.size}`,
          rule: 'covers a stored checkpoint',
          checkpointSize: row.size,
        });
      }
      const info = await inspectTimestampToken(row.token, checkpointDigest(checkpoint.note));
      timestamps.push({ size: row.size, tsaUrl: row.tsaUrl, ...info });
      if (!info.imprintMatches || !info.signatureValid) {
        fail('LEDGER_TIMESTAMP_INVALID', `Time-stamp token for checkpoint size ${row.size} does not verify`, {
          field: `timestamp ${row.size}`,
          rule: info.imprintMatches
            ? 'signature by the TSA certificate'
            : 'imprint is SHA-256 of the checkpoint',
          checkpointSize: row.size,
        });
      }
    }
  } catch (err) {
    if (!(err instanceof Failure)) throw err;
    return report(base, size, stored, external, timestamps, err.failure);
  }
  return report(base, size, stored, external, timestamps);
}

function report(
  base: { ledger: string; origin: string; verifierKey: string },
  size: number,
  stored: readonly SignedCheckpoint[],
  external: SignedCheckpoint | undefined,
  timestamps: readonly TimestampReport[],
  failure?: VerifyFailure,
): VerifyReport {
  const latest = stored.at(-1);
  return {
    ...base,
    ok: failure === undefined,
    size,
    checkpoints: stored.length,
    ...(latest === undefined ? {} : { latestCheckpointSize: latest.size }),
    pending: Math.max(0, size - (latest?.size ?? 0)),
    ...(external === undefined ? {} : { externalCheckpointSize: external.size }),
    timestamps,
    ...(failure === undefined ? {} : { failure }),
  };
}

function checkKeys(ledger: Ledger, options: VerifyOptions): NoteVerifier {
  if (options.verifierKey === undefined) return ledger.verifier;
  const pinned = parseVerifierKey(options.verifierKey);
  if (!sameKey(pinned, { name: ledger.keyName, publicKey: ledger.publicKey })) {
    fail('LEDGER_KEY_MISMATCH', `Ledger ${ledger.id} is signed by another key than the one given`, {
      field: 'key',
      rule: 'stored public key equals the verifier key kept elsewhere',
    });
  }
  return pinned;
}

function openExternal(note: string, verifier: NoteVerifier, origin: string): SignedCheckpoint {
  try {
    return openCheckpoint(note, verifier, origin);
  } catch (err) {
    if (err instanceof CustosError)
      fail(err.code, `Checkpoint file: ${err.message}`, { ...err.details, field: 'checkpoint file' });
    throw err;
  }
}

/** Stream every entry once; returns the number of entries. */
async function recompute(
  ledgerId: string,
  store: LedgerStore,
  stored: readonly SignedCheckpoint[],
  external: SignedCheckpoint | undefined,
): Promise<number> {
  const tiles = new Map<string, Buffer>();
  for (const t of await store.allTiles(ledgerId)) tiles.set(`${t.level}/${t.index}`, t.hash);
  const found: { failure: Failure | undefined } = { failure: undefined };
  const range = new CompactRange((level, index, hash) => {
    if (found.failure !== undefined || level % TILE_HEIGHT !== 0) return;
    const tileLevel = level / TILE_HEIGHT;
    const key = `${tileLevel}/${index}`;
    const want = tiles.get(key);
    tiles.delete(key);
    if (want === undefined || !constantTimeEqual(want, hash)) {
      const first = index * 2 ** level;
      found.failure = new Failure(
        'LEDGER_TILE_HASH_MISMATCH',
        `Entries ${first}–${first + 2 ** level - 1} do not hash to stored tile ${key}`,
        {
          field: `tile ${key}`,
          rule:
            want === undefined ? 'stored tile hash is missing' : 'stored tile hash equals MTH of its entries',
          tile: key,
          index: first,
        },
      );
    }
  });
  const sizes = [...stored];
  if (external !== undefined) sizes.push(external);
  sizes.sort((a, b) => a.size - b.size);
  let next = 0;
  /** Compare the roots of checkpoints at the current size; false once something failed. */
  const checkRoots = (): boolean => {
    if (found.failure !== undefined) return false;
    for (let c = sizes[next]; c?.size === range.size; c = sizes[++next]) {
      const root = range.size === 0 ? EMPTY_ROOT : range.root();
      if (!constantTimeEqual(root, c.root)) {
        const isExternal = c === external;
        found.failure = new Failure(
          isExternal ? 'LEDGER_CONSISTENCY_PROOF_INVALID' : 'LEDGER_CHECKPOINT_ROOT_MISMATCH',
          isExternal
            ? `The ledger is not an extension of the checkpoint kept elsewhere (size ${c.size})`
            : `Checkpoint at size ${c.size} does not match the entries`,
          {
            field: isExternal ? 'checkpoint file' : `checkpoint ${c.size}`,
            rule: 'root equals MTH of the entries',
            checkpointSize: c.size,
          },
        );
        return false;
      }
    }
    return true;
  };
  checkRoots();
  await store.scanEntries(ledgerId, (row) => {
    if (found.failure !== undefined) return false;
    const index = range.size;
    if (row.idx !== index) {
      found.failure = new Failure(
        'LEDGER_GAP',
        `Entries ${index}–${row.idx - 1} of ledger ${ledgerId} are missing`,
        {
          field: `entries ${index}`,
          rule: 'contiguous indexes from 0',
          index,
        },
      );
      return false;
    }
    const leaf = hashLeaf(row.entry);
    if (!constantTimeEqual(leaf, row.leafHash)) {
      found.failure = new Failure(
        'LEDGER_ENTRY_HASH_MISMATCH',
        `Entry ${index} does not match its stored leaf hash`,
        {
          field: `entries ${index}`,
          rule: 'leaf hash = SHA-256(0x00 || entry)',
          index,
        },
      );
      return false;
    }
    range.push(leaf);
    return checkRoots();
  });
  if (found.failure !== undefined) throw found.failure;
  const beyond = sizes[next];
  if (beyond !== undefined) {
    fail(
      'LEDGER_GAP',
      `Entries ${range.size}–${beyond.size - 1} are missing (checkpoint size ${beyond.size})`,
      {
        field: `entries ${range.size}`,
        rule: `checkpoint size ${beyond.size} ≤ entries`,
        index: range.size,
        checkpointSize: beyond.size,
      },
    );
  }
  const extra = tiles.keys().next().value;
  if (extra !== undefined) {
    fail('LEDGER_TILE_HASH_MISMATCH', `Stored tile ${extra} has no entries`, {
      field: `tile ${extra}`,
      rule: 'every stored tile hash covers stored entries',
      tile: extra,
    });
  }
  return range.size;
}
