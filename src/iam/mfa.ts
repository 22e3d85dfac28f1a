// TOTP second factor: enrollment (secret shown once, sealed by the root key provider at rest),
// confirmation, verification with replay protection and throttling, and reset by an admin.
import { randomBytes } from '../crypto/index.ts';
import { CustosError } from '../errors/index.ts';
import { withCorrelation, type Actor } from '../ledger/index.ts';
import { asBuffer } from '../store/index.ts';
import { recordIam, userActor } from './audit.ts';
import { nowOf, type IamContext } from './context.ts';
import { clearFailures, isLocked, recordFailure, throttleKey } from './throttle.ts';
import { base32Encode, matchTotp, otpauthUri } from './totp.ts';

export interface Factors {
  readonly totp: boolean;
  readonly webauthn: number;
}

function aad(userId: string): Buffer {
  return Buffer.from(`custos/iam/totp/v1\u0000${userId}`, 'utf8');
}

export async function factorsOf(ctx: IamContext, userId: string): Promise<Factors> {
  const totp = await ctx.store.db
    .selectFrom('totp_factors')
    .select('confirmed_at')
    .where('user_id', '=', userId)
    .executeTakeFirst();
  const keys = await ctx.store.db
    .selectFrom('webauthn_credentials')
    .select((eb) => eb.fn.countAll<number | string>().as('n'))
    .where('user_id', '=', userId)
    .executeTakeFirst();
  return { totp: totp?.confirmed_at != null, webauthn: Number(keys?.n ?? 0) };
}

/** Start TOTP enrollment: a new secret, shown once. Throws IAM_MFA_ALREADY_ENROLLED. */
export async function enrollTotp(
  ctx: IamContext,
  user: { readonly id: string; readonly email: string },
): Promise<{ secret: string; uri: string }> {
  if ((await factorsOf(ctx, user.id)).totp) {
    throw new CustosError('IAM_MFA_ALREADY_ENROLLED', 'TOTP is already enrolled; an admin can reset it', {
      details: { field: 'totp', rule: 'not yet enrolled' },
    });
  }
  const secret = randomBytes(20);
  const sealed = await ctx.root.wrap(secret, aad(user.id));
  const now = nowOf(ctx);
  await ctx.store.db.transaction().execute(async (trx) => {
    await trx.deleteFrom('totp_factors').where('user_id', '=', user.id).execute();
    await trx
      .insertInto('totp_factors')
      .values({ user_id: user.id, sealed, confirmed_at: null, last_counter: 0, created_at: now })
      .execute();
  });
  const out = { secret: base32Encode(secret), uri: otpauthUri(secret, user.email) };
  secret.fill(0);
  return out;
}

async function check(ctx: IamContext, userId: string, code: unknown, confirmed: boolean): Promise<number> {
  const key = throttleKey(`mfa:${userId}`);
  const fail = (rule: string): CustosError =>
    new CustosError('IAM_MFA_INVALID', 'The code did not verify', { details: { field: 'code', rule } });
  if (await isLocked(ctx, key)) {
    throw new CustosError('IAM_SIGN_IN_LOCKED', 'Too many wrong codes; try again later', {
      details: { field: 'code', rule: 'lockout after repeated failures' },
    });
  }
  const row = await ctx.store.db
    .selectFrom('totp_factors')
    .selectAll()
    .where('user_id', '=', userId)
    .executeTakeFirst();
  if (row === undefined || (row.confirmed_at !== null) !== confirmed) {
    throw new CustosError(
      'IAM_MFA_NOT_ENROLLED',
      confirmed ? 'No TOTP factor is enrolled' : 'Start TOTP enrollment first',
      {
        details: { field: 'totp', rule: confirmed ? 'enrolled factor' : 'pending enrollment' },
      },
    );
  }
  const secret = await ctx.root.unwrap(asBuffer(row.sealed), aad(userId));
  const step =
    typeof code === 'string'
      ? matchTotp(secret, code, Math.floor(ctx.clock().getTime() / 1000), row.last_counter)
      : undefined;
  secret.fill(0);
  if (step === undefined) {
    const locked = await recordFailure(ctx, key);
    await recordIam(ctx, {
      action: locked ? 'iam.mfa.locked' : 'iam.mfa.failure',
      actor: userActor(userId),
      resource: { kind: 'user', id: userId },
      outcome: 'failure',
      details: { factor: 'totp' },
    });
    throw fail('current 6-digit code, not used before');
  }
  await clearFailures(ctx, key);
  await ctx.store.db
    .updateTable('totp_factors')
    .set({ last_counter: step, ...(confirmed ? {} : { confirmed_at: nowOf(ctx) }) })
    .where('user_id', '=', userId)
    .execute();
  return step;
}

/** Finish enrollment with a first valid code. Throws IAM_MFA_NOT_ENROLLED, IAM_MFA_INVALID, IAM_SIGN_IN_LOCKED. */
export async function confirmTotp(
  ctx: IamContext,
  userId: string,
  code: unknown,
  correlationId?: string,
): Promise<void> {
  await check(ctx, userId, code, false);
  await recordIam(ctx, {
    action: 'iam.mfa.enroll',
    actor: userActor(userId),
    resource: { kind: 'user', id: userId },
    details: { factor: 'totp' },
    ...withCorrelation(correlationId),
  });
}

/** Verify a code of the enrolled factor. Throws IAM_MFA_NOT_ENROLLED, IAM_MFA_INVALID, IAM_SIGN_IN_LOCKED. */
export async function verifyTotp(ctx: IamContext, userId: string, code: unknown): Promise<void> {
  await check(ctx, userId, code, true);
}

/** Remove every second factor of a user (an admin action, e.g. a lost phone). */
export async function resetFactors(
  ctx: IamContext,
  userId: string,
  actor: Actor,
  correlationId?: string,
): Promise<void> {
  await ctx.store.db.transaction().execute(async (trx) => {
    await trx.deleteFrom('totp_factors').where('user_id', '=', userId).execute();
    await trx.deleteFrom('webauthn_credentials').where('user_id', '=', userId).execute();
    await trx
      .updateTable('sessions')
      .set({ revoked_at: nowOf(ctx) })
      .where('user_id', '=', userId)
      .where('revoked_at', 'is', null)
      .execute();
  });
  await recordIam(ctx, {
    action: 'iam.mfa.reset',
    actor,
    resource: { kind: 'user', id: userId },
    ...withCorrelation(correlationId),
  });
}
