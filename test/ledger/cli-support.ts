// What an auditor's own tooling needs to check `custos ledger` output: the ledger's pure verifiers.
export {
  hashLeaf,
  openCheckpoint,
  parseTlogProof,
  parseVerifierKey,
  verifyConsistency,
  verifyInclusion,
} from '../../src/ledger/index.ts';
import type { TlogProof } from '../../src/ledger/index.ts';

/** The entry carried as a tlog-proof's extra data. */
export function decodeTlogEntry(p: TlogProof): Buffer {
  if (p.extra === undefined) throw new Error('tlog-proof carries no entry');
  return p.extra;
}
