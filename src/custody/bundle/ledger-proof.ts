// metadata/ledger-proof.json: the export event's ledger entry, its C2SP tlog-proof@v1 (index,
// RFC 9162 inclusion path, signed C2SP checkpoint) and optionally the checkpoint's RFC 3161 token.
import { canonicalJsonBytes } from '../../crypto/index.ts';
import { CustosError } from '../../errors/index.ts';
import { LEDGER_PROOF_FORMAT } from './layout.ts';

export interface LedgerProofDocument {
  readonly ledger: string;
  /** The entry bytes: RFC 8785 JSON of the `custody.produced` event. */
  readonly entry: Buffer;
  /** C2SP tlog-proof@v1 text. */
  readonly tlogProof: string;
  /** DER of an RFC 3161 TimeStampToken over SHA-256 of the checkpoint note. */
  readonly timestamp?: Buffer;
}

const MAX_BYTES = 1024 * 1024;

export function encodeLedgerProof(doc: LedgerProofDocument): Buffer {
  return canonicalJsonBytes({
    format: LEDGER_PROOF_FORMAT,
    ledger: doc.ledger,
    entry: doc.entry.toString('base64'),
    tlogProof: doc.tlogProof,
    ...(doc.timestamp === undefined ? {} : { timestamp: doc.timestamp.toString('base64') }),
  });
}

function invalid(rule: string): CustosError {
  return new CustosError('CUSTODY_LEDGER_PROOF_INVALID', `Ledger proof file is malformed: ${rule}`, {
    details: { field: 'metadata/ledger-proof.json', rule },
  });
}

function base64(text: unknown, field: string): Buffer {
  if (typeof text !== 'string' || text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text))
    throw invalid(`${field} must be base64`);
  const bytes = Buffer.from(text, 'base64');
  if (bytes.toString('base64') !== text) throw invalid(`${field} must be canonical base64`);
  return bytes;
}

/** Parse the file defensively. Throws CUSTODY_LEDGER_PROOF_INVALID. */
export function parseLedgerProof(bytes: Uint8Array): LedgerProofDocument {
  if (bytes.length > MAX_BYTES) throw invalid(`larger than ${MAX_BYTES} bytes`);
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    throw invalid('not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid('not an object');
  const o = value as Record<string, unknown>;
  if (o.format !== LEDGER_PROOF_FORMAT) throw invalid(`format must be ${LEDGER_PROOF_FORMAT}`);
  if (typeof o.ledger !== 'string' || o.ledger.length === 0 || o.ledger.length > 256)
    throw invalid('ledger must be a string');
  if (typeof o.tlogProof !== 'string') throw invalid('tlogProof must be a string');
  const entry = base64(o.entry, 'entry');
  const timestamp = o.timestamp === undefined ? undefined : base64(o.timestamp, 'timestamp');
  return {
    ledger: o.ledger,
    entry,
    tlogProof: o.tlogProof,
    ...(timestamp === undefined ? {} : { timestamp }),
  };
}
