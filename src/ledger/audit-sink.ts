// The audit event shape every capability emits, and the sink interface the ledger implements.
// Events carry ids, field paths and digests only: never raw classified values or secrets.
import type { JsonValue } from '../crypto/index.ts';

export type ActorKind = 'user' | 'service' | 'token' | 'local-operator' | 'system';

export interface Actor {
  readonly kind: ActorKind;
  readonly id: string;
}

export interface ResourceRef {
  readonly kind: string;
  readonly id: string;
}

export type Outcome = 'success' | 'failure' | 'denied';

/** What a capability hands to the sink; the ledger adds nothing but its position. */
export interface AuditEvent {
  readonly time: string;
  readonly actor: Actor;
  readonly action: string;
  readonly resource: ResourceRef;
  readonly outcome: Outcome;
  readonly purpose?: string;
  readonly correlationId?: string;
  readonly details?: Readonly<Record<string, JsonValue>>;
}

/** Where audit events go. `ledger` is a workspace id or `system`. Resolves once the event is durable. */
export interface AuditSink {
  record(ledger: string, event: AuditEvent): Promise<void>;
}

/** A sink that keeps events in memory, for tests and for tools that run without a ledger. */
export class MemoryAuditSink implements AuditSink {
  readonly events: { ledger: string; event: AuditEvent }[] = [];

  record(ledger: string, event: AuditEvent): Promise<void> {
    this.events.push({ ledger, event });
    return Promise.resolve();
  }
}

/** The `correlationId` member of an event when there is one, to spread into it. */
export function withCorrelation(correlationId: string | undefined): { correlationId?: string } {
  return correlationId === undefined ? {} : { correlationId };
}
