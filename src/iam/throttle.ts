// Sign-in throttling and lockout per account key: a digest of the identifier as submitted, so an
// unknown account is throttled and locked exactly like a real one and answers reveal nothing.
import { sha256Hex } from '../crypto/index.ts';
import { laterOf, nowOf, type IamContext } from './context.ts';

export function throttleKey(identifier: string): string {
  return sha256Hex(`custos/sign-in/v1\u0000${identifier}`);
}

/** True while the key is locked out. */
export async function isLocked(ctx: IamContext, key: string): Promise<boolean> {
  const row = await ctx.store.db
    .selectFrom('sign_in_throttle')
    .select('locked_until')
    .where('key', '=', key)
    .executeTakeFirst();
  return row?.locked_until != null && row.locked_until > nowOf(ctx);
}

/** Count a failure; returns true when this failure locked the key. */
export async function recordFailure(ctx: IamContext, key: string): Promise<boolean> {
  const { lockoutThreshold, lockoutWindowSeconds, lockoutSeconds } = ctx.settings;
  const now = nowOf(ctx);
  return ctx.store.db.transaction().execute(async (trx) => {
    const row = await trx
      .selectFrom('sign_in_throttle')
      .selectAll()
      .where('key', '=', key)
      .$if(ctx.store.dialect === 'postgres', (q) => q.forUpdate())
      .executeTakeFirst();
    const windowOpen =
      row !== undefined &&
      Date.parse(row.window_started_at) + lockoutWindowSeconds * 1000 > ctx.clock().getTime();
    const failures = windowOpen ? row.failures + 1 : 1;
    const lock = failures >= lockoutThreshold;
    const values = {
      failures: lock ? 0 : failures,
      window_started_at: windowOpen ? row.window_started_at : now,
      locked_until: lock ? laterOf(ctx, lockoutSeconds) : (row?.locked_until ?? null),
    };
    if (row === undefined)
      await trx
        .insertInto('sign_in_throttle')
        .values({ key, ...values })
        .execute();
    else await trx.updateTable('sign_in_throttle').set(values).where('key', '=', key).execute();
    return lock;
  });
}

export async function clearFailures(ctx: IamContext, key: string): Promise<void> {
  await ctx.store.db.deleteFrom('sign_in_throttle').where('key', '=', key).execute();
}
