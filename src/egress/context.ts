// Who an outbound decision is made for: the workspace whose ledger records it, the actor, and the
// run it belongs to, so every deny and AI decision can be traced to its step.
import type { Actor } from '../ledger/index.ts';

export interface EgressContext {
  readonly workspace: string;
  readonly actor: Actor;
  readonly correlationId?: string;
  readonly runId?: string;
}
