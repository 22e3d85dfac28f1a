// Public surface of ledger/: audit events and sinks, the tamper-evident log, proofs and checkpoints.
export { MemoryAuditSink } from './audit-sink.ts';
export type { Actor, ActorKind, AuditEvent, AuditSink, Outcome, ResourceRef } from './audit-sink.ts';
