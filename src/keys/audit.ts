// Builders for key audit events: resource ids and counts only, never key material.
import type { JsonValue } from '../crypto/index.ts';
import type { Actor, AuditEvent, Outcome } from '../ledger/index.ts';
import { nowIso } from '../store/index.ts';

/** The actor the keyring acts as when it rotates on its own (wrap limit reached). */
export const KEYRING_ACTOR: Actor = { kind: 'system', id: 'keyring' };

export type KeyAction =
  'key.workspace.init' | 'key.kek.rotate' | 'key.kek.rewrap' | 'key.kek.destroy' | 'key.subject.shred';

export function keyEvent(
  actor: Actor,
  action: KeyAction,
  resource: { kind: string; id: string },
  details: Record<string, JsonValue>,
  outcome: Outcome = 'success',
): AuditEvent {
  return { time: nowIso(), actor, action, resource, outcome, details };
}

export function kekResource(workspaceId: string, version: number): { kind: string; id: string } {
  return { kind: 'kek-version', id: `${workspaceId}/kek/${version}` };
}
