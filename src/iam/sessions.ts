// Browser sessions: an unguessable id and secret in an HttpOnly cookie, only the secret's hash
// stored; idle and absolute timeouts; a fresh id at every privilege change (no fixation); a CSRF
// token derived from the secret; revocation that the next request sees.
import { constantTimeEqual, hmacSha256, randomBytes, sha256 } from '../crypto/index.ts';
import { CustosError } from '../errors/index.ts';
import { laterOf, nowOf, type IamContext } from './context.ts';
import { newId } from './ids.ts';

export type SessionStage = 'mfa' | 'enroll' | 'active';

export interface Session {
  readonly id: string;
  readonly userId: string;
  readonly stage: SessionStage;
  readonly authMethod: 'password' | 'oidc';
  readonly mfaMethod: string | null;
  readonly createdAt: string;
  readonly lastSeenAt: string;
  readonly expiresAt: string;
}

export interface IssuedSession {
  readonly session: Session;
  /** The cookie value: shown to the browser once, never stored. */
  readonly cookie: string;
  readonly csrfToken: string;
}

const COOKIE = /^(ses_[0-9a-f]{16})\.([A-Za-z0-9_-]{43})$/;
const SEEN_EVERY_MS = 60_000;

function invalid(rule: string): CustosError {
  return new CustosError('IAM_SESSION_INVALID', 'Session is missing, expired or revoked; sign in again', {
    details: { field: 'cookie', rule },
  });
}

function secretHash(secret: string): string {
  return sha256(Buffer.from(secret, 'utf8')).toString('hex');
}

/** The CSRF token of a session: an HMAC of its secret, so it needs no storage and dies with it. */
export function csrfTokenFor(cookie: string): string {
  const secret = COOKIE.exec(cookie)?.[2] ?? '';
  return hmacSha256(Buffer.from(secret, 'utf8'), 'custos/csrf/v1').toString('base64url');
}

/** Constant-time check of a presented CSRF token against the session cookie. */
export function checkCsrf(cookie: string, presented: string | undefined): boolean {
  if (presented === undefined || presented.length > 100) return false;
  return constantTimeEqual(Buffer.from(csrfTokenFor(cookie)), Buffer.from(presented));
}

interface NewSessionInput {
  readonly userId: string;
  readonly stage: SessionStage;
  readonly authMethod: 'password' | 'oidc';
  readonly mfaMethod?: string | null;
  /** Keep the absolute deadline of the sign-in this session continues. */
  readonly expiresAt?: string;
  readonly createdAt?: string;
}

/** Start a session with a new id and secret. */
export async function createSession(ctx: IamContext, input: NewSessionInput): Promise<IssuedSession> {
  const id = newId('ses');
  const secret = randomBytes(32).toString('base64url');
  const now = nowOf(ctx);
  const pending = input.stage !== 'active';
  const deadline = laterOf(ctx, pending ? ctx.settings.pendingSeconds : ctx.settings.sessionAbsoluteSeconds);
  const expiresAt = input.expiresAt !== undefined && input.expiresAt < deadline ? input.expiresAt : deadline;
  const session: Session = {
    id,
    userId: input.userId,
    stage: input.stage,
    authMethod: input.authMethod,
    mfaMethod: input.mfaMethod ?? null,
    createdAt: input.createdAt ?? now,
    lastSeenAt: now,
    expiresAt,
  };
  await ctx.store.db
    .insertInto('sessions')
    .values({
      id,
      secret_hash: secretHash(secret),
      user_id: session.userId,
      stage: session.stage,
      auth_method: session.authMethod,
      mfa_method: session.mfaMethod,
      created_at: session.createdAt,
      last_seen_at: now,
      expires_at: expiresAt,
      revoked_at: null,
    })
    .execute();
  const cookie = `${id}.${secret}`;
  return { session, cookie, csrfToken: csrfTokenFor(cookie) };
}

/** The live session a cookie names. Throws IAM_SESSION_INVALID (unknown, revoked, idle or expired). */
export async function resolveSession(ctx: IamContext, cookie: string): Promise<Session> {
  const m = COOKIE.exec(cookie);
  if (m === null) throw invalid('session cookie');
  const [, id = '', secret = ''] = m;
  const row = await ctx.store.db.selectFrom('sessions').selectAll().where('id', '=', id).executeTakeFirst();
  if (
    row === undefined ||
    !constantTimeEqual(Buffer.from(row.secret_hash, 'hex'), Buffer.from(secretHash(secret), 'hex'))
  ) {
    throw invalid('known session');
  }
  const now = ctx.clock();
  const nowText = now.toISOString();
  if (row.revoked_at !== null) throw invalid('session not revoked');
  if (row.expires_at <= nowText) throw invalid('absolute session lifetime');
  const idleMs = ctx.settings.sessionIdleSeconds * 1000;
  if (Date.parse(row.last_seen_at) + idleMs <= now.getTime()) throw invalid('idle timeout');
  if (Date.parse(row.last_seen_at) + SEEN_EVERY_MS <= now.getTime()) {
    await ctx.store.db.updateTable('sessions').set({ last_seen_at: nowText }).where('id', '=', id).execute();
  }
  return {
    id: row.id,
    userId: row.user_id,
    stage: row.stage,
    authMethod: row.auth_method,
    mfaMethod: row.mfa_method,
    createdAt: row.created_at,
    lastSeenAt: row.last_seen_at,
    expiresAt: row.expires_at,
  };
}

/**
 * Replace a session by a new one at a new stage (after a second factor): the old id stops working,
 * the new one keeps the original absolute deadline once active.
 */
export async function advanceSession(
  ctx: IamContext,
  old: Session,
  stage: SessionStage,
  mfaMethod: string | null,
): Promise<IssuedSession> {
  await revokeSession(ctx, old.id);
  return createSession(ctx, {
    userId: old.userId,
    stage,
    authMethod: old.authMethod,
    mfaMethod,
    createdAt: old.createdAt,
    expiresAt: new Date(Date.parse(old.createdAt) + ctx.settings.sessionAbsoluteSeconds * 1000).toISOString(),
  });
}

export async function revokeSession(ctx: IamContext, id: string): Promise<void> {
  await ctx.store.db
    .updateTable('sessions')
    .set({ revoked_at: nowOf(ctx) })
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .execute();
}

/** Revoke every live session of a user; returns how many. */
export async function revokeUserSessions(ctx: IamContext, userId: string): Promise<number> {
  const r = await ctx.store.db
    .updateTable('sessions')
    .set({ revoked_at: nowOf(ctx) })
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return Number(r.numUpdatedRows);
}
