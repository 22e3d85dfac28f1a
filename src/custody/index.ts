// Public surface of custody/: export bundles (BagIt + PROV-O + DSSE/in-toto + ledger proof, optional
// age encryption), export definitions and keys, the WORM archive, the scrubber, offline verification.
export { openCustody, defaultCustodySettings } from './custody.ts';
export type { Custody, CustodyHost, CustodySettings } from './custody.ts';
export type { CustodyRole, Caller } from './roles.ts';
export { requireRole } from './roles.ts';

export { createExport, createExportOnce, idempotentExportId, ledgerAnchor, startExport } from './export.ts';
export { ExportJobs } from './export-jobs.ts';
export type { ExportJob, ExportJobState, ExportRun } from './export-jobs.ts';
export { recordStoreSource } from './record-source.ts';
export type { RecordStoreSourceOptions } from './record-source.ts';
export type {
  CreateExportOnceOptions,
  CreateExportOptions,
  ExportContext,
  ExportOnceResult,
  ExportRecordSource,
  ExportResult,
} from './export.ts';
export { Definitions } from './definitions/definitions.ts';
export { parseDefinitionSpec, effectiveTreatments, specDigest } from './definitions/definition.ts';
export type {
  ExportDefinition,
  ExportDefinitionSpec,
  FieldRule,
  FieldTreatment,
  RecordSelection,
} from './definitions/definition.ts';
export { ExportKeys, parseKeyList, KEY_LIST_FORMAT } from './export-keys.ts';
export type { ExportKeyInfo, ExportKeyState, SealingProvider } from './export-keys.ts';
export { custodyEvent, producedEvent } from './events.ts';
export type { CustodyAction, CustodyEventInput } from './events.ts';

export { writeBundle } from './bundle/write-bundle.ts';
export type {
  BundleResult,
  BundleSigner,
  LedgerAnchor,
  PayloadFile,
  ProducedFacts,
  WriteBundleOptions,
} from './bundle/write-bundle.ts';
export { createPayloadPool, encodeRecords, encodeLine, fastCanonical } from './bundle/ndjson.ts';
export type { ExportRecord } from './bundle/ndjson.ts';
export { encodeLedgerProof, parseLedgerProof } from './bundle/ledger-proof.ts';
export type { LedgerProofDocument } from './bundle/ledger-proof.ts';
export { FILES, PREDICATE_TYPE, BUNDLE_FORMAT } from './bundle/layout.ts';

export { Archive } from './archive/archive.ts';
export { recordDelivery, verifyArchived } from './attest.ts';
export type { Delivery } from './attest.ts';
export type { ArchiveEntry, ArchiveOptions } from './archive/archive.ts';
export type { BlobBackend } from './archive/backend.ts';
export { FsBackend } from './archive/fs-backend.ts';
export { DbBackend } from './archive/db-backend.ts';
export { Scrubber } from './scrubber.ts';
export type { ScrubAlert, ScrubResult, ScrubberOptions } from './scrubber.ts';

export { verifyBundleFile, verifyCollected } from './verify/verify-bundle.ts';
export type { VerifyBundleOptions } from './verify/verify-bundle.ts';
export { CHECK_LABELS } from './verify/report.ts';
export type { CheckId, CheckResult, CheckStatus, VerifyReport } from './verify/report.ts';
export type { RevokedKey } from './verify/attestation-checks.ts';
export { DEFAULT_LIMITS } from './limits.ts';
export type { BundleLimits } from './limits.ts';
export { closeDigestWorkers } from './digest/dual-digest.ts';
export { ChunkPool } from './io/chunk-pool.ts';

export {
  generateIdentity,
  parseIdentity,
  parseIdentityFile,
  parseRecipient,
  encryptBytes,
  decryptBytes,
  decryptStream,
  AgeSink,
} from './age/index.ts';
export type { AgeIdentity, AgeRecipient } from './age/index.ts';
export {
  pae,
  signEnvelope,
  parseEnvelope,
  verifyEnvelope,
  keyIdOf,
  parseEd25519PublicPems,
} from './dsse/index.ts';
export type { DsseEnvelope } from './dsse/index.ts';
export { encodeStatement, parseStatement, STATEMENT_TYPE, INTOTO_PAYLOAD_TYPE } from './intoto/statement.ts';
export type { Statement, Subject } from './intoto/statement.ts';
export { buildProvenance, parseProvenance } from './prov/provenance.ts';
export type { ProvenanceInput } from './prov/provenance.ts';
export { readTar } from './tar/reader.ts';
export type { TarEntry } from './tar/reader.ts';
export { TarWriter } from './tar/writer.ts';
