// C2SP tlog-proof@v1: an offline-verifiable inclusion proof (index, RFC 6962 path, checkpoint) in
// one text file. The entry itself travels separately; its leaf hash binds it to the proof.
import { CustosError } from '../errors/index.ts';
import { HASH_SIZE } from './hash.ts';
import { decodeBase64Strict } from './note.ts';

export const TLOG_PROOF_HEADER = 'c2sp.org/tlog-proof@v1';

export interface TlogProof {
  readonly index: number;
  readonly proof: readonly Buffer[];
  /** The signed checkpoint, verbatim. */
  readonly checkpoint: string;
  readonly extra?: Buffer;
}

function malformed(rule: string): CustosError {
  return new CustosError('LEDGER_INCLUSION_PROOF_INVALID', `Proof file is malformed: ${rule}`, {
    details: { field: 'proof', rule },
  });
}

export function formatTlogProof(p: TlogProof): string {
  const lines = [TLOG_PROOF_HEADER];
  if (p.extra !== undefined) lines.push(`extra ${p.extra.toString('base64')}`);
  lines.push(`index ${p.index}`, ...p.proof.map((h) => h.toString('base64')), '');
  return `${lines.join('\n')}\n${p.checkpoint}`;
}

/** Parse a tlog-proof file. Throws LEDGER_INCLUSION_PROOF_INVALID. */
export function parseTlogProof(text: string): TlogProof {
  if (text.length > 128 * 1024) throw malformed('larger than 128 KiB');
  const blank = text.indexOf('\n\n');
  if (blank < 0) throw malformed('no blank line before the checkpoint');
  const lines = text.slice(0, blank).split('\n');
  const checkpoint = text.slice(blank + 2);
  if (lines.shift() !== TLOG_PROOF_HEADER) throw malformed(`first line must be ${TLOG_PROOF_HEADER}`);
  let extra: Buffer | undefined;
  if (lines[0]?.startsWith('extra ') === true) {
    extra = decodeBase64Strict(lines.shift()?.slice(6) ?? '');
    if (extra === undefined) throw malformed('extra must be base64');
  }
  const indexMatch = /^index (0|[1-9][0-9]{0,15})$/.exec(lines.shift() ?? '');
  if (indexMatch === null) throw malformed('index line must be "index <decimal>"');
  const index = Number(indexMatch[1]);
  if (!Number.isSafeInteger(index)) throw malformed('index is too large');
  if (lines.length > 64) throw malformed('more than 64 proof hashes');
  const proof = lines.map((l) => {
    const h = decodeBase64Strict(l);
    if (h?.length !== HASH_SIZE) throw malformed('each proof line must be base64 of 32 bytes');
    return h;
  });
  return extra === undefined ? { index, proof, checkpoint } : { index, proof, checkpoint, extra };
}
