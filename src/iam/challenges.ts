// One-use, short-lived challenges (OIDC state with PKCE verifier and nonce, WebAuthn challenges),
// optionally bound to a value the requesting browser holds. Taking one deletes it.
import { constantTimeEqual, sha256Hex } from '../crypto/index.ts';
import { CustosError } from '../errors/index.ts';
import { laterOf, nowOf, type IamContext } from './context.ts';
import { newId } from './ids.ts';

export interface PutChallenge {
  readonly kind: string;
  readonly subject: string;
  readonly data: Readonly<Record<string, string>>;
  readonly ttlSeconds: number;
  readonly binding?: string;
  readonly id?: string;
}

export async function putChallenge(ctx: IamContext, input: PutChallenge): Promise<string> {
  const id = input.id ?? newId('chl');
  const now = nowOf(ctx);
  await ctx.store.db.deleteFrom('auth_challenges').where('expires_at', '<=', now).execute();
  await ctx.store.db
    .insertInto('auth_challenges')
    .values({
      id,
      kind: input.kind,
      subject: input.subject,
      binding_hash: input.binding === undefined ? null : sha256Hex(input.binding),
      data: JSON.stringify(input.data),
      created_at: now,
      expires_at: laterOf(ctx, input.ttlSeconds),
    })
    .execute();
  return id;
}

/**
 * Take (and delete) a live challenge of `kind` for `subject`; `binding` must match when one was set.
 * Throws IAM_CHALLENGE_INVALID.
 */
export async function takeChallenge(
  ctx: IamContext,
  kind: string,
  match: { readonly id?: string; readonly subject?: string; readonly binding?: string },
): Promise<{ subject: string; data: Record<string, string> }> {
  const invalid = new CustosError(
    'IAM_CHALLENGE_INVALID',
    'Challenge is unknown, used or expired; start again',
    {
      details: { field: 'challenge', rule: 'live, unused challenge' },
    },
  );
  let q = ctx.store.db.selectFrom('auth_challenges').selectAll().where('kind', '=', kind);
  if (match.id !== undefined) q = q.where('id', '=', match.id);
  if (match.subject !== undefined) q = q.where('subject', '=', match.subject);
  const row = await q.orderBy('created_at', 'desc').executeTakeFirst();
  if (row === undefined) throw invalid;
  const deleted = await ctx.store.db
    .deleteFrom('auth_challenges')
    .where('id', '=', row.id)
    .executeTakeFirst();
  if (deleted.numDeletedRows === 0n || row.expires_at <= nowOf(ctx)) throw invalid;
  if (row.binding_hash !== null) {
    const presented = sha256Hex(match.binding ?? '');
    if (!constantTimeEqual(Buffer.from(presented, 'hex'), Buffer.from(row.binding_hash, 'hex')))
      throw invalid;
  }
  return { subject: row.subject, data: JSON.parse(row.data) as Record<string, string> };
}
