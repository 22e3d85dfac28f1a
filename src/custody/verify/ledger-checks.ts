// Checks of metadata/ledger-proof.json, offline: the RFC 9162 inclusion proof of the export event
// against the C2SP checkpoint signed by the ledger key the statement pins, the entry's binding to
// this statement, consistency with a checkpoint the verifier brings, and the RFC 3161 token.
import { CustosError } from '../../errors/index.ts';
import {
  checkpointDigest,
  hashLeaf,
  inspectTimestampToken,
  openCheckpoint,
  parseTlogProof,
  parseVerifierKey,
  verifyConsistency,
  verifyInclusion,
  type SignedCheckpoint,
} from '../../ledger/index.ts';
import { parseLedgerProof, type LedgerProofDocument } from '../bundle/ledger-proof.ts';
import { FILES, PRODUCED_ACTION } from '../bundle/layout.ts';
import type { AttestationFacts } from './attestation-checks.ts';
import type { CollectedBundle } from './read-bundle.ts';
import { failure, type ReportBuilder } from './report.ts';

export interface CheckpointOptions {
  /** A signed checkpoint the verifier obtained independently. */
  readonly checkpoint?: string;
  /** RFC 9162 consistency proof between the bundle's checkpoint and `checkpoint` when sizes differ. */
  readonly consistencyProof?: readonly Buffer[];
}

/** Re-code ledger errors as custody ones so each failure keeps one distinct custody code. */
function asCustody(
  err: unknown,
  code: 'CUSTODY_LEDGER_PROOF_INVALID' | 'CUSTODY_CHECKPOINT_INVALID' | 'CUSTODY_CHECKPOINT_INCONSISTENT',
): never {
  if (err instanceof CustosError)
    throw new CustosError(code, err.message, { cause: err, details: err.details });
  throw err;
}

function record(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
    ? (v as Record<string, unknown>)
    : undefined;
}

export async function checkLedger(
  bag: CollectedBundle,
  att: AttestationFacts,
  options: CheckpointOptions,
  report: ReportBuilder,
): Promise<void> {
  let doc: LedgerProofDocument | undefined;
  let checkpoint: SignedCheckpoint | undefined;
  let verifier: ReturnType<typeof parseVerifierKey> | undefined;

  report.run('ledger-inclusion', () => {
    const bytes = bag.tagFiles.get(FILES.ledgerProof);
    if (bytes === undefined)
      throw failure('CUSTODY_FILE_MISSING', `${FILES.ledgerProof} is missing`, FILES.ledgerProof);
    const pin = att.ledger;
    if (pin === undefined)
      throw failure(
        'CUSTODY_CHECKPOINT_INVALID',
        'the signed statement pins no ledger key',
        'predicate/ledger',
      );
    doc = parseLedgerProof(bytes);
    if (doc.ledger !== pin.ledger)
      throw failure(
        'CUSTODY_LEDGER_PROOF_INVALID',
        `proof is from ledger ${doc.ledger}, not ${pin.ledger}`,
        'ledger',
      );
    let proof;
    try {
      proof = parseTlogProof(doc.tlogProof);
    } catch (err) {
      asCustody(err, 'CUSTODY_LEDGER_PROOF_INVALID');
    }
    try {
      verifier = parseVerifierKey(pin.verifierKey);
      checkpoint = openCheckpoint(proof.checkpoint, verifier, pin.origin);
    } catch (err) {
      asCustody(err, 'CUSTODY_CHECKPOINT_INVALID');
    }
    try {
      verifyInclusion(proof.index, checkpoint.size, hashLeaf(doc.entry), proof.proof, checkpoint.root);
    } catch (err) {
      asCustody(err, 'CUSTODY_LEDGER_PROOF_INVALID');
    }
    return `entry ${proof.index} of ${checkpoint.size} in ${checkpoint.origin}`;
  });

  report.run('ledger-entry', () => {
    if (doc === undefined)
      throw failure('CUSTODY_LEDGER_ENTRY_MISMATCH', 'no readable ledger proof', FILES.ledgerProof);
    let event: Record<string, unknown> | undefined;
    try {
      event = record(JSON.parse(doc.entry.toString('utf8')));
    } catch {
      event = undefined;
    }
    const details = record(event?.details);
    const resource = record(event?.resource);
    if (event === undefined || details === undefined || resource === undefined) {
      throw failure('CUSTODY_LEDGER_ENTRY_MISMATCH', 'ledger entry is not a custody event', 'entry');
    }
    if (event.action !== PRODUCED_ACTION)
      throw failure(
        'CUSTODY_LEDGER_ENTRY_MISMATCH',
        `ledger entry is ${String(event.action)}, not ${PRODUCED_ACTION}`,
        'entry/action',
      );
    if (resource.id !== att.exportId || details.exportId !== att.exportId) {
      throw failure(
        'CUSTODY_LEDGER_ENTRY_MISMATCH',
        'ledger entry records another export',
        'entry/resource/id',
      );
    }
    if (att.statementSha256 === undefined || details.statementSha256 !== att.statementSha256) {
      throw failure(
        'CUSTODY_LEDGER_ENTRY_MISMATCH',
        'ledger entry records another attestation statement',
        'entry/details/statementSha256',
      );
    }
    const actor = record(event.actor);
    return `${PRODUCED_ACTION} by ${String(actor?.kind)}:${String(actor?.id)} at ${String(event.time)}`;
  });

  if (options.checkpoint === undefined) {
    report.skip('checkpoint-consistency', 'no --checkpoint given');
  } else {
    const given = options.checkpoint;
    report.run('checkpoint-consistency', () => {
      if (checkpoint === undefined || verifier === undefined || att.ledger === undefined) {
        throw failure(
          'CUSTODY_CHECKPOINT_INCONSISTENT',
          "the bundle's own checkpoint did not verify",
          FILES.ledgerProof,
        );
      }
      let other: SignedCheckpoint;
      try {
        other = openCheckpoint(given, verifier, att.ledger.origin);
      } catch (err) {
        asCustody(err, 'CUSTODY_CHECKPOINT_INVALID');
      }
      if (other.size === checkpoint.size) {
        if (!other.root.equals(checkpoint.root))
          throw failure(
            'CUSTODY_CHECKPOINT_INCONSISTENT',
            `two checkpoints of size ${other.size} with different roots`,
            '--checkpoint',
          );
        return `same tree (size ${other.size})`;
      }
      const proof = options.consistencyProof;
      if (proof === undefined) {
        throw failure(
          'CUSTODY_CHECKPOINT_INCONSISTENT',
          `sizes differ (${checkpoint.size} vs ${other.size}); give --consistency-proof`,
          '--consistency-proof',
        );
      }
      const [small, large] = other.size < checkpoint.size ? [other, checkpoint] : [checkpoint, other];
      try {
        verifyConsistency(small.size, large.size, proof, small.root, large.root);
      } catch (err) {
        asCustody(err, 'CUSTODY_CHECKPOINT_INCONSISTENT');
      }
      return `tree ${small.size} is a prefix of tree ${large.size}`;
    });
  }

  const token = doc?.timestamp;
  if (token === undefined) {
    report.skip('timestamp', 'bundle carries no time-stamp token');
  } else {
    await report.runAsync('timestamp', async () => {
      if (checkpoint === undefined)
        throw failure('CUSTODY_TIMESTAMP_INVALID', 'checkpoint did not verify', FILES.ledgerProof);
      let info;
      try {
        info = await inspectTimestampToken(token, checkpointDigest(checkpoint.note));
      } catch (err) {
        if (err instanceof CustosError)
          throw new CustosError('CUSTODY_TIMESTAMP_INVALID', err.message, {
            cause: err,
            details: err.details,
          });
        throw err;
      }
      if (!info.imprintMatches)
        throw failure('CUSTODY_TIMESTAMP_INVALID', 'time-stamp token covers another checkpoint', 'timestamp');
      if (!info.signatureValid)
        throw failure('CUSTODY_TIMESTAMP_INVALID', 'time-stamp token signature does not verify', 'timestamp');
      return `${info.genTime}${info.signer === undefined ? '' : ` by ${info.signer}`}`;
    });
  }
}
