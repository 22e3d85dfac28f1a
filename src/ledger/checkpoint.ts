// C2SP tlog-checkpoint: the note text `<origin>\n<size>\n<base64 root>\n[extension lines]`, signed as a
// C2SP signed-note by the ledger's Ed25519 key whose name is the origin.
import { CustosError } from '../errors/index.ts';
import { HASH_SIZE } from './hash.ts';
import {
  decodeBase64Strict,
  openNote,
  signNote,
  type NoteSigner,
  type NoteVerifier,
  type OpenedNote,
} from './note.ts';

export interface Checkpoint {
  readonly origin: string;
  readonly size: number;
  readonly root: Buffer;
  readonly extensions: readonly string[];
}

export interface SignedCheckpoint extends Checkpoint {
  /** The whole signed note, as served at `<prefix>/checkpoint`. */
  readonly note: string;
}

/** Checkpoints above this size are refused before parsing. */
export const MAX_CHECKPOINT_BYTES = 64 * 1024;

function malformed(rule: string): CustosError {
  return new CustosError('LEDGER_CHECKPOINT_MALFORMED', `Checkpoint is malformed: ${rule}`, {
    details: { field: 'checkpoint', rule },
  });
}

/** The note text of a checkpoint. */
export function formatCheckpoint(c: Checkpoint): string {
  if (c.origin === '' || c.origin.includes('\n')) throw malformed('origin must be one non-empty line');
  if (!Number.isSafeInteger(c.size) || c.size < 0) throw malformed('size must be a non-negative integer');
  if (c.root.length !== HASH_SIZE) throw malformed('root must be 32 bytes');
  for (const e of c.extensions)
    if (e === '' || e.includes('\n')) throw malformed('extension lines must be non-empty');
  return [c.origin, String(c.size), c.root.toString('base64'), ...c.extensions].join('\n') + '\n';
}

/** Parse checkpoint note text. Throws LEDGER_CHECKPOINT_MALFORMED. */
export function parseCheckpoint(text: string): Checkpoint {
  if (!text.endsWith('\n')) throw malformed('text must end with a newline');
  const lines = text.slice(0, -1).split('\n');
  if (lines.length < 3) throw malformed('at least three lines: origin, size, root hash');
  const [origin = '', sizeText = '', rootText = '', ...extensions] = lines;
  if (origin === '') throw malformed('origin must be non-empty');
  if (!/^(0|[1-9][0-9]{0,15})$/.test(sizeText))
    throw malformed('size must be a decimal without leading zeroes');
  const size = Number(sizeText);
  if (!Number.isSafeInteger(size)) throw malformed('size is too large');
  const root = decodeBase64Strict(rootText);
  if (root?.length !== HASH_SIZE) throw malformed('root hash must be base64 of 32 bytes');
  if (extensions.some((e) => e === '')) throw malformed('extension lines must be non-empty');
  return { origin, size, root, extensions };
}

/** Sign a checkpoint with the ledger key. */
export function signCheckpoint(c: Checkpoint, signer: NoteSigner): SignedCheckpoint {
  return { ...c, note: signNote(formatCheckpoint(c), [signer]) };
}

/**
 * Open a signed checkpoint: the signed-note must verify under `verifier`, and the origin must be
 * `expectedOrigin` when given. Throws LEDGER_CHECKPOINT_MALFORMED, LEDGER_CHECKPOINT_SIGNATURE_INVALID,
 * LEDGER_CHECKPOINT_ORIGIN_MISMATCH.
 */
export function openCheckpoint(
  note: string,
  verifier: NoteVerifier,
  expectedOrigin?: string,
): SignedCheckpoint {
  if (Buffer.byteLength(note, 'utf8') > MAX_CHECKPOINT_BYTES)
    throw malformed(`larger than ${MAX_CHECKPOINT_BYTES} bytes`);
  let opened: OpenedNote;
  try {
    opened = openNote(note, [verifier]);
  } catch (err) {
    if (err instanceof CustosError && err.code === 'LEDGER_NOTE_MALFORMED') {
      throw new CustosError('LEDGER_CHECKPOINT_MALFORMED', err.message, { cause: err, details: err.details });
    }
    throw err;
  }
  const c = parseCheckpoint(opened.text);
  if (expectedOrigin !== undefined && c.origin !== expectedOrigin) {
    throw new CustosError('LEDGER_CHECKPOINT_ORIGIN_MISMATCH', 'Checkpoint origin is not this ledger', {
      details: { field: 'origin', rule: `origin ${expectedOrigin}` },
    });
  }
  return { ...c, note };
}
