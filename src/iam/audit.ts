// IAM audit events: sign-ins, failures, lockouts, factor changes, grants, elevation, tokens and
// denied requests. Details hold ids, roles and reasons; never passwords, codes, tokens or emails.
import type { JsonValue } from '../crypto/index.ts';
import { isCustosError } from '../errors/index.ts';
import type { Actor, Outcome, ResourceRef } from '../ledger/index.ts';
import { nowOf, type IamContext } from './context.ts';

export interface IamEventInput {
  readonly action: `iam.${string}`;
  readonly actor: Actor;
  readonly resource: ResourceRef;
  readonly outcome?: Outcome;
  /** A workspace id, or `system` (the default) for installation-wide events. */
  readonly ledger?: string;
  readonly correlationId?: string;
  readonly purpose?: string;
  readonly details?: Readonly<Record<string, JsonValue>>;
}

const CORRELATION = /^[A-Za-z0-9._:/@-]{1,128}$/;

/** Record an IAM event; a workspace without a ledger (unknown id) falls back to `system`. */
export async function recordIam(ctx: IamContext, input: IamEventInput): Promise<void> {
  const event = {
    time: nowOf(ctx),
    actor: input.actor,
    action: input.action,
    resource: input.resource,
    outcome: input.outcome ?? 'success',
    ...(input.correlationId !== undefined && CORRELATION.test(input.correlationId)
      ? { correlationId: input.correlationId }
      : {}),
    ...(input.purpose === undefined || input.purpose === '' ? {} : { purpose: input.purpose }),
    ...(input.details === undefined ? {} : { details: input.details }),
  };
  const ledger = input.ledger ?? 'system';
  try {
    await ctx.audit.record(ledger, event);
  } catch (err) {
    if (ledger === 'system' || !isCustosError(err, 'LEDGER_UNKNOWN')) throw err;
    await ctx.audit.record('system', { ...event, details: { ...event.details, workspace: ledger } });
  }
}

export function userActor(userId: string): Actor {
  return { kind: 'user', id: userId };
}

export const ANONYMOUS: Actor = { kind: 'user', id: 'anonymous' };
