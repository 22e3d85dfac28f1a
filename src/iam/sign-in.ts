// Local sign-in with email and password: throttled and locked per submitted identifier, the same
// answer and the same argon2id work whether or not the account exists, and the session stage that
// follows (second factor, mandatory enrollment, or signed in).
import { withCorrelation } from '../ledger/index.ts';
import { CustosError } from '../errors/index.ts';
import { ANONYMOUS, recordIam, userActor } from './audit.ts';
import { nowOf, type IamContext } from './context.ts';
import { activeGrantsOf } from './grants.ts';
import { factorsOf } from './mfa.ts';
import { hashPassword, MAX_PASSWORD_CHARS, verifyPassword, type Argon2idCost } from './password.ts';
import { MFA_ROLES } from './roles.ts';
import { createSession, type IssuedSession, type SessionStage } from './sessions.ts';
import { clearFailures, isLocked, recordFailure, throttleKey } from './throttle.ts';
import { toUser, type User } from './users.ts';

export interface SignInResult {
  readonly user: User;
  readonly stage: SessionStage;
  readonly issued: IssuedSession;
}

const dummies = new Map<string, Promise<string>>();

/** A hash of nothing anyone knows, with the configured cost, verified when the account is unknown. */
function dummyHash(cost: Argon2idCost): Promise<string> {
  const key = `${cost.memoryKiB}/${cost.passes}/${cost.parallelism}`;
  let h = dummies.get(key);
  if (h === undefined) {
    h = hashPassword(`custos-dummy-${Math.random()}`, cost);
    dummies.set(key, h);
  }
  return h;
}

/** The failure every wrong sign-in gets, whatever was wrong. */
export function credentialsInvalid(): CustosError {
  return new CustosError('IAM_CREDENTIALS_INVALID', 'Email or password is wrong', {
    details: { field: 'credentials', rule: 'known account with the right password' },
  });
}

/**
 * Check email and password and start a session at the stage that follows.
 * Throws IAM_CREDENTIALS_INVALID (any wrong input) and IAM_SIGN_IN_LOCKED.
 */
export async function signInWithPassword(
  ctx: IamContext,
  input: { readonly email: unknown; readonly password: unknown; readonly correlationId?: string },
): Promise<SignInResult> {
  const email =
    typeof input.email === 'string' ? input.email.normalize('NFC').trim().toLowerCase().slice(0, 254) : '';
  const password = typeof input.password === 'string' ? input.password.slice(0, MAX_PASSWORD_CHARS) : '';
  const key = throttleKey(`password:${email}`);
  if (await isLocked(ctx, key)) {
    await recordIam(ctx, {
      action: 'iam.sign-in.locked',
      actor: ANONYMOUS,
      resource: { kind: 'account', id: 'unknown' },
      outcome: 'denied',
      ...withCorrelation(input.correlationId),
    });
    throw new CustosError('IAM_SIGN_IN_LOCKED', 'Too many failed sign-ins; try again later', {
      details: { field: 'credentials', rule: 'lockout after repeated failures' },
    });
  }
  const row = await ctx.store.db
    .selectFrom('users')
    .selectAll()
    .where('email', '=', email)
    .executeTakeFirst();
  const matches = await verifyPassword(
    password,
    row?.password_hash ?? (await dummyHash(ctx.settings.password)),
  );
  if (row === undefined || !matches || row.status !== 'active' || row.kind !== 'user') {
    const locked = await recordFailure(ctx, key);
    const resource = { kind: 'account', id: row?.id ?? 'unknown' };
    await recordIam(ctx, {
      action: 'iam.sign-in.failure',
      actor: row === undefined ? ANONYMOUS : userActor(row.id),
      resource,
      outcome: 'failure',
      details: { method: 'password' },
      ...withCorrelation(input.correlationId),
    });
    if (locked) {
      await recordIam(ctx, {
        action: 'iam.sign-in.lockout',
        actor: ANONYMOUS,
        resource,
        outcome: 'denied',
        ...withCorrelation(input.correlationId),
      });
    }
    throw credentialsInvalid();
  }
  await clearFailures(ctx, key);
  return completeSignIn(ctx, toUser(row), 'password', input.correlationId);
}

/**
 * After a first factor (password or SSO): a second factor when one is enrolled, enrollment when a
 * role demands one, else a signed-in session. Records `iam.sign-in.success`.
 */
export async function completeSignIn(
  ctx: IamContext,
  user: User,
  method: 'password' | 'oidc',
  correlationId?: string,
): Promise<SignInResult> {
  const factors = await factorsOf(ctx, user.id);
  const grants = await activeGrantsOf(ctx, user.id);
  const stage: SessionStage =
    factors.totp || factors.webauthn > 0
      ? 'mfa'
      : grants.some((g) => MFA_ROLES.includes(g.role))
        ? 'enroll'
        : 'active';
  const issued = await createSession(ctx, { userId: user.id, stage, authMethod: method });
  await ctx.store.db
    .updateTable('users')
    .set({ last_sign_in_at: nowOf(ctx) })
    .where('id', '=', user.id)
    .execute();
  await recordIam(ctx, {
    action: 'iam.sign-in.success',
    actor: userActor(user.id),
    resource: { kind: 'session', id: issued.session.id },
    details: { method, stage },
    ...withCorrelation(correlationId),
  });
  return { user, stage, issued };
}
