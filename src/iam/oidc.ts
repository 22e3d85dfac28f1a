// OpenID Connect single sign-on (openid-client): providers registered by an admin (client secret
// sealed by the root key provider), authorization code flow with PKCE, state bound to the browser,
// nonce, and linking of the (issuer, subject) pair to an existing Custos user.
import * as client from 'openid-client';
import { randomBytes } from '../crypto/index.ts';
import { CustosError, isCustosError } from '../errors/index.ts';
import type { Actor } from '../ledger/index.ts';
import { asBuffer } from '../store/index.ts';
import { ANONYMOUS, recordIam, userActor } from './audit.ts';
import { putChallenge, takeChallenge } from './challenges.ts';
import { nowOf, type IamContext } from './context.ts';
import { actorId, toUser, type User } from './users.ts';
import { withCorrelation } from '../ledger/index.ts';

export interface OidcProvider {
  readonly id: string;
  readonly displayName: string;
  readonly issuer: string;
  readonly clientId: string;
  readonly hasClientSecret: boolean;
  readonly scopes: string;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface SetOidcProvider {
  readonly id: string;
  readonly displayName?: string;
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret?: string;
  readonly scopes?: string;
  readonly actor: Actor;
  readonly correlationId?: string;
}

const PROVIDER_ID = /^[a-z][a-z0-9-]{0,62}$/;
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);
const TTL_SECONDS = 600;

function invalid(field: string, rule: string): CustosError {
  return new CustosError('IAM_OIDC_PROVIDER_INVALID', `${field}: ${rule}`, { details: { field, rule } });
}

function aad(id: string): Buffer {
  return Buffer.from(`custos/iam/oidc/v1\u0000${id}`, 'utf8');
}

/** https, or http on a loopback address (development). Throws IAM_OIDC_PROVIDER_INVALID. */
export function checkIssuer(issuer: unknown): URL {
  let url: URL;
  try {
    url = new URL(typeof issuer === 'string' ? issuer : '');
  } catch {
    throw invalid('issuer', 'absolute https URL');
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK.has(url.hostname))) {
    throw invalid('issuer', 'https URL (http only on a loopback address)');
  }
  if (url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
    throw invalid('issuer', 'no query, fragment or credentials');
  }
  return url;
}

function toProvider(r: {
  id: string;
  display_name: string;
  issuer: string;
  client_id: string;
  sealed_secret: Uint8Array | null;
  scopes: string;
  created_at: string;
  updated_at: string;
}): OidcProvider {
  return {
    id: r.id,
    displayName: r.display_name,
    issuer: r.issuer,
    clientId: r.client_id,
    hasClientSecret: r.sealed_secret !== null,
    scopes: r.scopes,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

/** Create or replace a provider. Throws IAM_OIDC_PROVIDER_INVALID. */
export async function setOidcProvider(ctx: IamContext, input: SetOidcProvider): Promise<OidcProvider> {
  if (!PROVIDER_ID.test(input.id)) throw invalid('providerId', PROVIDER_ID.source);
  const issuer = checkIssuer(input.issuer).href.replace(/\/$/, '');
  if (!/^[\x21-\x7e]{1,200}$/.test(input.clientId))
    throw invalid('clientId', '1..200 printable ASCII characters');
  const scopes = input.scopes ?? 'openid email profile';
  if (!/^openid( [\x21-\x7e]{1,64}){0,15}$/.test(scopes))
    throw invalid('scopes', 'openid followed by space-separated scopes');
  const sealed =
    input.clientSecret === undefined
      ? null
      : await ctx.root.wrap(Buffer.from(input.clientSecret, 'utf8'), aad(input.id));
  const now = nowOf(ctx);
  const values = {
    display_name: (input.displayName ?? input.id).slice(0, 100),
    issuer,
    client_id: input.clientId,
    sealed_secret: sealed,
    scopes,
    updated_at: now,
  };
  await ctx.store.db.transaction().execute(async (trx) => {
    const existing = await trx
      .selectFrom('oidc_providers')
      .select('id')
      .where('id', '=', input.id)
      .executeTakeFirst();
    if (existing === undefined) {
      await trx
        .insertInto('oidc_providers')
        .values({ id: input.id, ...values, created_by: actorId(input.actor), created_at: now })
        .execute();
    } else {
      await trx.updateTable('oidc_providers').set(values).where('id', '=', input.id).execute();
    }
  });
  await recordIam(ctx, {
    action: 'iam.oidc.provider.set',
    actor: input.actor,
    resource: { kind: 'oidc-provider', id: input.id },
    details: { issuer, clientSecret: sealed === null ? 'none' : 'sealed' },
    ...withCorrelation(input.correlationId),
  });
  return getOidcProvider(ctx, input.id);
}

export async function listOidcProviders(ctx: IamContext): Promise<OidcProvider[]> {
  const rows = await ctx.store.db.selectFrom('oidc_providers').selectAll().orderBy('id').execute();
  return rows.map(toProvider);
}

/** Throws IAM_OIDC_PROVIDER_NOT_FOUND. */
export async function getOidcProvider(ctx: IamContext, id: string): Promise<OidcProvider> {
  const row = await ctx.store.db
    .selectFrom('oidc_providers')
    .selectAll()
    .where('id', '=', id)
    .executeTakeFirst();
  if (row === undefined) {
    throw new CustosError('IAM_OIDC_PROVIDER_NOT_FOUND', 'No such single sign-on provider', {
      details: { field: 'provider', rule: 'registered provider' },
    });
  }
  return toProvider(row);
}

const configs = new Map<string, Promise<client.Configuration>>();

async function configOf(ctx: IamContext, id: string): Promise<client.Configuration> {
  const r = await ctx.store.db
    .selectFrom('oidc_providers')
    .selectAll()
    .where('id', '=', id)
    .executeTakeFirst();
  if (r === undefined) return getOidcProvider(ctx, id).then(() => configOf(ctx, id));
  const key = `${r.id}\u0000${r.updated_at}\u0000${r.issuer}`;
  let config = configs.get(key);
  if (config === undefined) {
    config = (async () => {
      const secret =
        r.sealed_secret === null
          ? undefined
          : (await ctx.root.unwrap(asBuffer(r.sealed_secret), aad(r.id))).toString('utf8');
      const issuer = new URL(r.issuer);
      return client.discovery(
        issuer,
        r.client_id,
        undefined,
        secret === undefined ? client.None() : client.ClientSecretBasic(secret),
        // eslint-disable-next-line @typescript-eslint/no-deprecated -- http issuers pass checkIssuer only on loopback (development)
        { ...(issuer.protocol === 'http:' ? { execute: [client.allowInsecureRequests] } : {}), timeout: 10 },
      );
    })();
    configs.set(key, config);
    config.catch(() => configs.delete(key));
  }
  try {
    return await config;
  } catch (cause) {
    throw new CustosError('IAM_OIDC_UNAVAILABLE', 'The single sign-on provider cannot be reached', {
      cause,
      details: { field: 'issuer', rule: 'reachable OpenID provider with discovery' },
    });
  }
}

/**
 * Start sign-in at a provider: the authorization URL (code flow, PKCE S256, state, nonce) and a
 * binding value the browser keeps in a cookie. Throws IAM_OIDC_PROVIDER_NOT_FOUND, IAM_OIDC_UNAVAILABLE.
 */
export async function beginOidc(
  ctx: IamContext,
  providerId: string,
  redirectUri: string,
): Promise<{ url: string; binding: string }> {
  const provider = await getOidcProvider(ctx, providerId);
  const config = await configOf(ctx, providerId);
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const binding = randomBytes(32).toString('base64url');
  await putChallenge(ctx, {
    id: `oidc_${state}`,
    kind: 'oidc',
    subject: providerId,
    data: { verifier, nonce, redirectUri },
    ttlSeconds: TTL_SECONDS,
    binding,
  });
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope: provider.scopes,
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
  });
  return { url: url.href, binding };
}

function ssoFailed(rule: string, cause?: unknown): CustosError {
  return new CustosError('IAM_OIDC_FAILED', 'Single sign-on failed; start again', {
    ...(cause === undefined ? {} : { cause }),
    details: { field: 'callback', rule },
  });
}

/**
 * Finish sign-in: check state, binding, PKCE and nonce, exchange the code, and find the linked user
 * (linking a verified email to an existing user on first use). Throws IAM_OIDC_FAILED, IAM_CHALLENGE_INVALID.
 */
export async function finishOidc(
  ctx: IamContext,
  providerId: string,
  callbackUrl: URL,
  binding: string | undefined,
  correlationId?: string,
): Promise<User> {
  const fail = async (rule: string, cause?: unknown): Promise<never> => {
    await recordIam(ctx, {
      action: 'iam.sign-in.failure',
      actor: ANONYMOUS,
      resource: { kind: 'oidc-provider', id: providerId },
      outcome: 'failure',
      details: { method: 'oidc', rule },
      ...withCorrelation(correlationId),
    });
    throw ssoFailed(rule, cause);
  };
  const error = callbackUrl.searchParams.get('error');
  if (error !== null) return fail('provider returned an error');
  const state = callbackUrl.searchParams.get('state') ?? '';
  if (!/^[A-Za-z0-9_-]{16,128}$/.test(state)) return fail('state from this browser');
  let challenge;
  try {
    challenge = await takeChallenge(ctx, 'oidc', {
      id: `oidc_${state}`,
      subject: providerId,
      binding: binding ?? '',
    });
  } catch (err) {
    if (isCustosError(err, 'IAM_CHALLENGE_INVALID'))
      return fail('state from this browser, unused and recent');
    throw err;
  }
  const config = await configOf(ctx, providerId);
  const current = new URL(challenge.data.redirectUri ?? '');
  current.search = callbackUrl.search;
  let claims;
  try {
    const tokens = await client.authorizationCodeGrant(config, current, {
      pkceCodeVerifier: challenge.data.verifier ?? '',
      expectedState: state,
      expectedNonce: challenge.data.nonce ?? '',
      idTokenExpected: true,
    });
    const idClaims = tokens.claims();
    if (idClaims === undefined) return await fail('ID token');
    // Providers that conform ID token claims put email in the UserInfo response instead.
    claims =
      typeof idClaims.email === 'string'
        ? { ...idClaims }
        : {
            ...(await client.fetchUserInfo(config, tokens.access_token, idClaims.sub)),
            iss: idClaims.iss,
            sub: idClaims.sub,
          };
  } catch (cause) {
    if (isCustosError(cause, 'IAM_OIDC_FAILED')) throw cause;
    return fail('valid authorization code, PKCE verifier, nonce and ID token', cause);
  }
  const issuer = claims.iss;
  const subject = claims.sub;
  const db = ctx.store.db;
  const linked = await db
    .selectFrom('user_identities')
    .select('user_id')
    .where('issuer', '=', issuer)
    .where('subject', '=', subject)
    .executeTakeFirst();
  let userId = linked?.user_id;
  if (userId === undefined) {
    const email =
      typeof claims.email === 'string' ? claims.email.normalize('NFC').trim().toLowerCase() : undefined;
    if (email === undefined || claims.email_verified !== true)
      return fail('identity linked to a Custos user, or a verified email of one');
    const byEmail = await db.selectFrom('users').select('id').where('email', '=', email).executeTakeFirst();
    if (byEmail === undefined) return fail('identity linked to a Custos user, or a verified email of one');
    userId = byEmail.id;
    await db
      .insertInto('user_identities')
      .values({ issuer, subject, user_id: userId, created_at: nowOf(ctx) })
      .execute();
    await recordIam(ctx, {
      action: 'iam.identity.link',
      actor: userActor(userId),
      resource: { kind: 'user', id: userId },
      details: { provider: providerId, issuer },
      ...withCorrelation(correlationId),
    });
  }
  const row = await db.selectFrom('users').selectAll().where('id', '=', userId).executeTakeFirst();
  if (row?.status !== 'active' || row.kind !== 'user') return fail('active user account');
  return toUser(row);
}
