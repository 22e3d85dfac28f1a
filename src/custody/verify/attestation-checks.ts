// Checks of the signed attestation: the DSSE signature under the bundled export key, the in-toto
// subjects against the hashed payload, the signed tag-file digests, the key against the trusted
// keys and revocations, and the PROV-O record.
import { createPublicKey, type KeyObject } from 'node:crypto';
import { sha256, sha256Hex } from '../../crypto/index.ts';
import { CustosError } from '../../errors/index.ts';
import { BAG_INFO, FILES, PREDICATE_TYPE, SIGNED_TAG_FILES } from '../bundle/layout.ts';
import { keyIdOf, parseEnvelope, verifyEnvelope, type ParsedEnvelope } from '../dsse/index.ts';
import { INTOTO_PAYLOAD_TYPE, parseStatement, type Statement } from '../intoto/statement.ts';
import { parseProvenance } from '../prov/provenance.ts';
import { bagInfoValues } from '../bagit/tag-files.ts';
import type { BagFacts } from './bag-checks.ts';
import type { CollectedBundle } from './read-bundle.ts';
import { failure, type ReportBuilder } from './report.ts';

export interface RevokedKey {
  readonly keyId: string;
  readonly revokedAt?: string;
  readonly reason?: string;
}

export interface TrustOptions {
  readonly trustedKeys?: readonly KeyObject[];
  readonly revokedKeys?: readonly RevokedKey[];
}

export interface LedgerPin {
  readonly ledger: string;
  readonly origin: string;
  readonly verifierKey: string;
}

export interface AttestationFacts {
  readonly statement?: Statement;
  readonly statementSha256?: string;
  readonly exportId?: string;
  readonly ledger?: LedgerPin;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function ledgerPin(statement: Statement): LedgerPin | undefined {
  const l = statement.predicate.ledger;
  if (typeof l !== 'object' || l === null || Array.isArray(l)) return undefined;
  const o = l as Record<string, unknown>;
  const ledger = str(o.ledger);
  const origin = str(o.origin);
  const verifierKey = str(o.verifierKey);
  return ledger === undefined || origin === undefined || verifierKey === undefined
    ? undefined
    : { ledger, origin, verifierKey };
}

export function checkAttestation(
  bag: CollectedBundle,
  facts: BagFacts,
  trust: TrustOptions,
  report: ReportBuilder,
): AttestationFacts {
  let signer: KeyObject | undefined;
  let signerId: string | undefined;
  let parsed: ParsedEnvelope | undefined;
  let statement: Statement | undefined;

  const signed = report.run('signature', () => {
    const pem = bag.tagFiles.get(FILES.exportKey);
    if (pem === undefined)
      throw failure('CUSTODY_FILE_MISSING', `${FILES.exportKey} is missing`, FILES.exportKey);
    const envelopeBytes = bag.tagFiles.get(FILES.attestation);
    if (envelopeBytes === undefined)
      throw failure('CUSTODY_FILE_MISSING', `${FILES.attestation} is missing`, FILES.attestation);
    try {
      signer = createPublicKey({ key: pem.toString('utf8'), format: 'pem' });
    } catch (cause) {
      throw new CustosError('CUSTODY_DSSE_INVALID', `${FILES.exportKey} is not a PEM public key`, {
        cause,
        details: { field: FILES.exportKey, rule: 'PEM SPKI' },
      });
    }
    if (signer.asymmetricKeyType !== 'ed25519')
      throw failure('CUSTODY_DSSE_INVALID', `${FILES.exportKey} is not an Ed25519 key`, FILES.exportKey);
    signerId = keyIdOf(signer);
    parsed = parseEnvelope(envelopeBytes);
    if (parsed.signatures.some((s) => s.keyid !== undefined && s.keyid !== signerId)) {
      throw failure(
        'CUSTODY_SIGNATURE_INVALID',
        `envelope names a key other than ${FILES.exportKey}`,
        'signatures/keyid',
      );
    }
    verifyEnvelope(parsed, {
      keys: [{ keyId: signerId, publicKey: signer }],
      payloadTypes: [INTOTO_PAYLOAD_TYPE],
    });
    return `Ed25519 key ${signerId.slice(0, 16)}…`;
  });

  report.run('subjects', () => {
    if (parsed === undefined)
      throw failure('CUSTODY_DSSE_INVALID', 'no readable attestation', FILES.attestation);
    statement = parseStatement(parsed.body);
    if (statement.predicateType !== PREDICATE_TYPE)
      throw failure('CUSTODY_STATEMENT_INVALID', `predicateType is not ${PREDICATE_TYPE}`, 'predicateType');
    const names = new Set(statement.subject.map((s) => s.name));
    for (const path of bag.payload.keys()) {
      if (!names.has(path))
        throw failure(
          'CUSTODY_SUBJECT_MISMATCH',
          `payload file ${path} is not a subject of the statement`,
          path,
        );
    }
    for (const s of statement.subject) {
      const actual = bag.payload.get(s.name);
      if (actual === undefined)
        throw failure('CUSTODY_SUBJECT_MISMATCH', `subject ${s.name} is not in the payload`, s.name);
      if (s.digest.sha256 === undefined)
        throw failure('CUSTODY_SUBJECT_MISMATCH', `subject ${s.name} has no sha256 digest`, s.name);
      if (s.digest.sha256 !== actual.sha256.toString('hex'))
        throw failure(
          'CUSTODY_SUBJECT_MISMATCH',
          `subject ${s.name} sha256 differs from the payload`,
          s.name,
        );
      if (s.digest.sha512 !== undefined && s.digest.sha512 !== actual.sha512.toString('hex')) {
        throw failure(
          'CUSTODY_SUBJECT_MISMATCH',
          `subject ${s.name} sha512 differs from the payload`,
          s.name,
        );
      }
    }
    return `${statement.subject.length} subject(s)${signed ? '' : ' (signature failed)'}`;
  });

  const predicateExportId = statement === undefined ? undefined : str(statement.predicate.exportId);
  report.run('signed-tag-files', () => {
    if (statement === undefined)
      throw failure('CUSTODY_STATEMENT_INVALID', 'no readable statement', FILES.attestation);
    const pinned = statement.predicate.tagFiles;
    if (typeof pinned !== 'object' || pinned === null || Array.isArray(pinned))
      throw failure('CUSTODY_STATEMENT_INVALID', 'predicate has no tagFiles', 'predicate/tagFiles');
    const table = pinned as Record<string, unknown>;
    for (const name of SIGNED_TAG_FILES) {
      const bytes = bag.tagFiles.get(name);
      if (bytes === undefined) throw failure('CUSTODY_FILE_MISSING', `${name} is missing`, name);
      if (table[name] !== sha256Hex(bytes))
        throw failure(
          'CUSTODY_TAG_DIGEST_MISMATCH',
          `${name} differs from the digest the statement signs`,
          name,
        );
    }
    if (predicateExportId === undefined || predicateExportId !== facts.exportId) {
      throw failure(
        'CUSTODY_TAG_DIGEST_MISMATCH',
        'bag-info.txt export id differs from the signed statement',
        BAG_INFO.exportId,
      );
    }
    const oxum = facts.info === undefined ? undefined : bagInfoValues(facts.info, BAG_INFO.payloadOxum)[0];
    if (statement.predicate.payloadOxum !== oxum)
      throw failure(
        'CUSTODY_TAG_DIGEST_MISMATCH',
        'Payload-Oxum differs from the signed statement',
        BAG_INFO.payloadOxum,
      );
    return `${SIGNED_TAG_FILES.length} file(s)`;
  });

  const trusted = trust.trustedKeys ?? [];
  report.run('key-trusted', () => {
    if (signerId === undefined)
      throw failure('CUSTODY_KEY_UNTRUSTED', 'no signing key to check', FILES.exportKey);
    if (trusted.length === 0)
      throw failure(
        'CUSTODY_KEY_UNTRUSTED',
        'no trusted keys given (--trusted-key or --key-list)',
        '--trusted-key',
      );
    if (!trusted.some((k) => keyIdOf(k) === signerId)) {
      throw failure(
        'CUSTODY_KEY_UNTRUSTED',
        `signing key ${signerId} is not among the ${trusted.length} trusted key(s)`,
        '--trusted-key',
      );
    }
    return `key ${signerId.slice(0, 16)}…`;
  });

  report.run('key-not-revoked', () => {
    if (signerId === undefined)
      throw failure('CUSTODY_KEY_REVOKED', 'no signing key to check', FILES.exportKey);
    const revoked = (trust.revokedKeys ?? []).find((r) => r.keyId === signerId);
    if (revoked !== undefined) {
      throw failure(
        'CUSTODY_KEY_REVOKED',
        `signing key ${signerId} was revoked${revoked.revokedAt === undefined ? '' : ` at ${revoked.revokedAt}`}`,
        'signing key',
      );
    }
    return (trust.revokedKeys ?? []).length === 0
      ? 'no revocation list given'
      : `${(trust.revokedKeys ?? []).length} revoked key(s) checked`;
  });

  report.run('provenance', () => {
    const bytes = bag.tagFiles.get(FILES.provenance);
    if (bytes === undefined)
      throw failure('CUSTODY_FILE_MISSING', `${FILES.provenance} is missing`, FILES.provenance);
    const s = parseProvenance(bytes, facts.exportId ?? predicateExportId ?? '');
    return `by ${s.actor} at ${s.startedAt}${s.purpose === '' ? '' : `, purpose: ${s.purpose}`}`;
  });

  const envelopeBody = parsed?.body;
  const pin = statement === undefined ? undefined : ledgerPin(statement);
  return {
    ...(statement === undefined ? {} : { statement }),
    ...(envelopeBody === undefined ? {} : { statementSha256: sha256(envelopeBody).toString('hex') }),
    ...(predicateExportId === undefined ? {} : { exportId: predicateExportId }),
    ...(pin === undefined ? {} : { ledger: pin }),
  };
}
