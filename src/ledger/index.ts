// Public surface of ledger/: audit events and sinks, the tamper-evident log (RFC 6962/9162 Merkle
// tree, C2SP signed-note checkpoints and tlog-tiles), proofs, verification and RFC 3161 time-stamps.
export { MemoryAuditSink, withCorrelation } from './audit-sink.ts';
export type { Actor, ActorKind, AuditEvent, AuditSink, Outcome, ResourceRef } from './audit-sink.ts';
export { Ledgers, LEDGER_NAME } from './ledgers.ts';
export type { LedgersOptions } from './ledgers.ts';
export { Ledger } from './ledger.ts';
export type { AppendReceipt, ConsistencyProof, InclusionProof, LedgerSettings } from './ledger.ts';
export type { SealingKeyProvider } from './ledger-key.ts';
export { checkEvent, checkExternalInput, entryBytes, MAX_ENTRY_BYTES } from './events.ts';
export type {
  AiPromptDecisionEvent,
  CustodyEvent,
  ExternalEvent,
  IamEvent,
  InstallInitEvent,
  KeyEvent,
  LedgerEvent,
  PrivacyEvent,
  RuntimeEvent,
  SecretEvent,
} from './events.ts';
export { EMPTY_ROOT, HASH_SIZE, hashChildren, hashLeaf } from './hash.ts';
export { CompactRange, rootOf } from './tree.ts';
export { consistencyRanges, inclusionRanges } from './proof.ts';
export { rootFromInclusionProof, verifyConsistency, verifyInclusion } from './verify-proof.ts';
export {
  encodeEntryBundle,
  encodeHashTile,
  formatTileIndex,
  parseEntryBundle,
  parseHashTile,
  parseTilePath,
  tilePath,
  tileWidthFor,
  TILE_HEIGHT,
  TILE_WIDTH,
} from './tiles.ts';
export type { TileRef } from './tiles.ts';
export {
  ed25519KeyId,
  ed25519Signer,
  formatVerifierKey,
  openNote,
  parseNote,
  parseVerifierKey,
  signNote,
} from './note.ts';
export type { NoteSignature, NoteSigner, NoteVerifier, OpenedNote } from './note.ts';
export { formatCheckpoint, openCheckpoint, parseCheckpoint, signCheckpoint } from './checkpoint.ts';
export type { Checkpoint, SignedCheckpoint } from './checkpoint.ts';
export { formatTlogProof, parseTlogProof, TLOG_PROOF_HEADER } from './tlog-proof.ts';
export type { TlogProof } from './tlog-proof.ts';
export { checkpointDigest, inspectTimestampToken, requestTimestamp, timestampRequest } from './timestamp.ts';
export type { FetchLike, TimestampInfo } from './timestamp.ts';
export { verifyLedger } from './verify-ledger.ts';
export type { TimestampReport, VerifyFailure, VerifyOptions, VerifyReport } from './verify-ledger.ts';
