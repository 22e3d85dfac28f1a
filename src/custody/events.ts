// The custody events: every step in a bundle's life is a ledger event naming the actor and the
// bundle digest (the in-toto statement digest before the file exists, the file's SHA-256 after).
import type { JsonValue } from '../crypto/index.ts';
import type { Actor, AuditEvent, Outcome } from '../ledger/index.ts';
import { PRODUCED_ACTION } from './bundle/layout.ts';
import { withCorrelation } from '../ledger/index.ts';

export type CustodyAction =
  | 'custody.requested'
  | 'custody.produced'
  | 'custody.archived'
  | 'custody.delivered'
  | 'custody.downloaded'
  | 'custody.verified'
  | 'custody.deleted'
  | 'custody.repaired'
  | 'custody.hold'
  | 'custody.released'
  | 'custody.deletion-requested'
  | 'custody.integrity-failed'
  | 'custody.key.created'
  | 'custody.key.rotated'
  | 'custody.key.revoked'
  | 'custody.definition.saved';

export interface CustodyEventInput {
  readonly action: CustodyAction;
  readonly actor: Actor;
  readonly exportId?: string;
  /** SHA-256 of the bundle file (hex); absent only before the file exists. */
  readonly bundleSha256?: string;
  readonly outcome?: Outcome;
  readonly purpose?: string;
  /** The run's or request's correlation id, when the step happens on behalf of one. */
  readonly correlationId?: string;
  readonly details?: Readonly<Record<string, JsonValue>>;
  readonly time?: string;
}

/** Build the audit event; the resource is the export when known, else the archived blob. */
export function custodyEvent(e: CustodyEventInput): AuditEvent {
  const resource =
    e.exportId !== undefined
      ? { kind: 'export', id: e.exportId }
      : { kind: 'archive-blob', id: e.bundleSha256 ?? 'unknown' };
  const details: Record<string, JsonValue> = { ...(e.details ?? {}) };
  if (e.exportId !== undefined) details.exportId = e.exportId;
  if (e.bundleSha256 !== undefined) details.bundleSha256 = e.bundleSha256;
  return {
    time: e.time ?? new Date().toISOString(),
    actor: e.actor,
    action: e.action,
    resource,
    outcome: e.outcome ?? 'success',
    ...(e.purpose === undefined ? {} : { purpose: e.purpose }),
    ...withCorrelation(e.correlationId),
    details,
  };
}

/** The event whose inclusion proof goes into the bundle: it pins the signed statement. */
export function producedEvent(
  actor: Actor,
  facts: {
    readonly exportId: string;
    readonly statementSha256: string;
    readonly payloadOxum: string;
    readonly definition: string;
  },
  purpose: string,
  correlationId?: string,
): AuditEvent {
  return custodyEvent({
    action: PRODUCED_ACTION,
    actor,
    exportId: facts.exportId,
    purpose,
    ...withCorrelation(correlationId),
    details: {
      statementSha256: facts.statementSha256,
      payloadOxum: facts.payloadOxum,
      definition: facts.definition,
    },
  });
}
