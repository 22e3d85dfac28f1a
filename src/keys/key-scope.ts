// A store transaction seen by the keyring: key operations made inside it queue their audit events,
// which are emitted only once the transaction has committed (a rolled-back rotation is never reported).
import type { Kysely } from 'kysely';
import type { AuditEvent, AuditSink } from '../ledger/index.ts';
import type { Database } from '../store/index.ts';

export class KeyScope {
  /** The transaction (or database) every statement of this scope runs on. */
  readonly db: Kysely<Database>;
  readonly #audit: AuditSink;
  readonly #pending: { ledger: string; event: AuditEvent }[] = [];

  constructor(db: Kysely<Database>, audit: AuditSink) {
    this.db = db;
    this.#audit = audit;
  }

  /** Queue an event for {@link flush}. */
  defer(ledger: string, event: AuditEvent): void {
    this.#pending.push({ ledger, event });
  }

  /** Emit the queued events, in order; call after the transaction committed. */
  async flush(): Promise<void> {
    const events = this.#pending.splice(0);
    for (const { ledger, event } of events) await this.#audit.record(ledger, event);
  }

  /** Drop the queued events; call when the transaction rolled back. */
  discard(): void {
    this.#pending.length = 0;
  }
}
