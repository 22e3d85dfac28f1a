// Users and service accounts: installation-wide identities that hold roles through grants.
// Disabling a user revokes its sessions; its tokens and grants stop working on the next request.
import { CustosError } from '../errors/index.ts';
import type { Actor } from '../ledger/index.ts';
import type { UsersTable } from '../store/index.ts';
import { recordIam } from './audit.ts';
import { nowOf, type IamContext } from './context.ts';
import { newId } from './ids.ts';
import { checkPasswordPolicy, hashPassword } from './password.ts';
import { withCorrelation } from '../ledger/index.ts';

export interface User {
  readonly id: string;
  readonly email: string;
  readonly displayName: string;
  readonly kind: 'user' | 'service';
  readonly status: 'active' | 'disabled';
  readonly hasPassword: boolean;
  readonly createdAt: string;
  readonly createdBy: string;
  readonly disabledAt: string | null;
  readonly lastSignInAt: string | null;
}

export interface CreateUserInput {
  readonly email: string;
  readonly displayName?: string;
  readonly kind?: 'user' | 'service';
  /** Omitted for service accounts and SSO-only users. */
  readonly password?: string;
  readonly actor: Actor;
  readonly correlationId?: string;
}

const EMAIL = /^[^\s@"<>()\\,;:]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63}$/;

/** Lowercased NFC form, the key users are found by. Throws INPUT_INVALID naming `field`. */
export function normalizeEmail(value: unknown, field = 'email'): string {
  const email = typeof value === 'string' ? value.normalize('NFC').trim().toLowerCase() : '';
  if (email.length > 254 || !EMAIL.test(email)) {
    throw new CustosError('INPUT_INVALID', `${field} is not an email address`, {
      details: { field, rule: 'local@domain.tld, at most 254 characters' },
    });
  }
  return email;
}

/** A stored user, as the store declares it. */
type Row = UsersTable;

export function toUser(row: Row): User {
  return {
    id: row.id,
    email: row.email,
    displayName: row.display_name,
    kind: row.kind,
    status: row.status,
    hasPassword: row.password_hash !== null,
    createdAt: row.created_at,
    createdBy: row.created_by,
    disabledAt: row.disabled_at,
    lastSignInAt: row.last_sign_in_at,
  };
}

export function actorId(actor: Actor): string {
  return `${actor.kind}:${actor.id}`;
}

/** Create a user. Throws INPUT_INVALID, IAM_PASSWORD_WEAK, IAM_USER_EXISTS. */
export async function createUser(ctx: IamContext, input: CreateUserInput): Promise<User> {
  const email = normalizeEmail(input.email);
  const kind = input.kind ?? 'user';
  if (kind === 'service' && input.password !== undefined) {
    throw new CustosError('INPUT_INVALID', 'Service accounts sign in with tokens, not passwords', {
      details: { field: 'password', rule: 'absent for service accounts' },
    });
  }
  const hash =
    input.password === undefined
      ? null
      : await hashPassword(checkPasswordPolicy(input.password, email), ctx.settings.password);
  const row: Row = {
    id: newId('usr'),
    email,
    display_name: (input.displayName ?? email).slice(0, 200),
    kind,
    password_hash: hash,
    status: 'active',
    created_by: actorId(input.actor),
    created_at: nowOf(ctx),
    disabled_at: null,
    last_sign_in_at: null,
  };
  const db = ctx.store.db;
  const existing = await db.selectFrom('users').select('id').where('email', '=', email).executeTakeFirst();
  if (existing !== undefined) throw exists();
  try {
    await db.insertInto('users').values(row).execute();
  } catch (cause) {
    throw exists(cause);
  }
  await recordIam(ctx, {
    action: 'iam.user.create',
    actor: input.actor,
    resource: { kind: 'user', id: row.id },
    details: { kind, password: hash !== null },
    ...withCorrelation(input.correlationId),
  });
  return toUser(row);
}

function exists(cause?: unknown): CustosError {
  return new CustosError('IAM_USER_EXISTS', 'A user with this email already exists', {
    ...(cause === undefined ? {} : { cause }),
    details: { field: 'email', rule: 'unique' },
  });
}

/** Throws IAM_USER_NOT_FOUND. */
export async function getUser(ctx: IamContext, id: string): Promise<User> {
  const row = await ctx.store.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
  if (row === undefined) {
    throw new CustosError('IAM_USER_NOT_FOUND', 'No such user', {
      details: { field: 'userId', rule: 'existing user' },
    });
  }
  return toUser(row);
}

export async function listUsers(ctx: IamContext): Promise<User[]> {
  const rows = await ctx.store.db
    .selectFrom('users')
    .selectAll()
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  return rows.map(toUser);
}

/**
 * Disable or enable a user. Disabling revokes every session in the same transaction; tokens owned
 * by the user stop working because each request checks the owner. Throws IAM_USER_NOT_FOUND.
 */
export async function setUserStatus(
  ctx: IamContext,
  id: string,
  status: 'active' | 'disabled',
  actor: Actor,
  correlationId?: string,
): Promise<User> {
  await getUser(ctx, id);
  const now = nowOf(ctx);
  await ctx.store.db.transaction().execute(async (trx) => {
    await trx
      .updateTable('users')
      .set({ status, disabled_at: status === 'disabled' ? now : null })
      .where('id', '=', id)
      .execute();
    if (status === 'disabled') {
      await trx
        .updateTable('sessions')
        .set({ revoked_at: now })
        .where('user_id', '=', id)
        .where('revoked_at', 'is', null)
        .execute();
    }
  });
  await recordIam(ctx, {
    action: status === 'disabled' ? 'iam.user.disable' : 'iam.user.enable',
    actor,
    resource: { kind: 'user', id },
    ...withCorrelation(correlationId),
  });
  return getUser(ctx, id);
}
