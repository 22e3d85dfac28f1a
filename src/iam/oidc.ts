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
import { CONNECTOR_ID } from '../egress/index.ts';
import type { OidcProvidersTable } from '../store/index.ts';
import { checkConnectorScope, syncManagedGrants } from './grants.ts';
import { isRole, ROLES, type Role } from './roles.ts';
import { withCorrelation } from '../ledger/index.ts';

export interface OidcProvider {
  readonly id: string;
  readonly displayName: string;
  readonly issuer: string;
  readonly clientId: string;
  readonly hasClientSecret: boolean;
  readonly scopes: string;
  /** The ID token or UserInfo claim that lists the user's groups. */
  readonly groupsClaim: string;
  /** Roles a member of a group holds; each sign-in adds and revokes grants to match. */
  readonly groupRoles: readonly GroupRole[];
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface GroupRole {
  readonly group: string;
  readonly workspace: string;
  readonly role: Role;
  /** `*` (every connector) or one connector id. */
  readonly connector: string;
}

export interface SetOidcProvider {
  readonly id: string;
  readonly displayName?: string;
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret?: string;
  readonly scopes?: string;
  readonly groupsClaim?: string;
  readonly groupRoles?: readonly {
    readonly group: unknown;
    readonly workspace: unknown;
    readonly role: unknown;
    readonly connector?: unknown;
  }[];
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

const GROUPS_CLAIM = /^[\x21-\x7e]{1,200}$/;
/** Group names as identity providers send them: any text but control characters. */
const GROUP_NAME = /^[^\p{Cc}]{1,256}$/u;
const MAX_GROUP_ROLES = 1000;

/** The mappings, checked and normalized. Throws IAM_OIDC_PROVIDER_INVALID naming the entry and field. */
async function checkGroupRoles(ctx: IamContext, input: SetOidcProvider['groupRoles']): Promise<GroupRole[]> {
  if (input === undefined) return [];
  const list: unknown = input;
  if (!Array.isArray(list) || list.length > MAX_GROUP_ROLES)
    throw invalid('groupRoles', `a list of at most ${MAX_GROUP_ROLES} mappings`);
  const out = new Map<string, GroupRole>();
  for (const [i, entry] of (list as unknown[]).entries()) {
    const at = `groupRoles/${i}`;
    if (typeof entry !== 'object' || entry === null)
      throw invalid(at, 'an object {group, workspace, role, connector?}');
    const m = entry as Readonly<Record<string, unknown>>;
    const group = m.group;
    if (typeof group !== 'string' || !GROUP_NAME.test(group))
      throw invalid(`${at}/group`, '1..256 characters, no control characters');
    const role = m.role;
    if (!isRole(role)) throw invalid(`${at}/role`, ROLES.join(' | '));
    let connector: string;
    try {
      connector = checkConnectorScope(m.connector, `${at}/connector`);
    } catch {
      throw invalid(`${at}/connector`, `* or ${CONNECTOR_ID.source}`);
    }
    const workspace = typeof m.workspace === 'string' ? m.workspace : '';
    const exists = await ctx.store.db
      .selectFrom('workspaces')
      .select('id')
      .where('id', '=', workspace)
      .executeTakeFirst();
    if (exists === undefined) throw invalid(`${at}/workspace`, 'an existing workspace');
    const g: GroupRole = { group, workspace, role, connector };
    out.set(JSON.stringify([g.group, g.workspace, g.role, g.connector]), g);
  }
  return [...out.values()];
}

type ProviderRow = OidcProvidersTable;

function toProvider(r: ProviderRow, groupRoles: readonly GroupRole[]): OidcProvider {
  return {
    id: r.id,
    displayName: r.display_name,
    issuer: r.issuer,
    clientId: r.client_id,
    hasClientSecret: r.sealed_secret !== null,
    scopes: r.scopes,
    groupsClaim: r.groups_claim,
    groupRoles,
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
  const groupsClaim = input.groupsClaim ?? 'groups';
  if (!GROUPS_CLAIM.test(groupsClaim)) throw invalid('groupsClaim', '1..200 printable ASCII characters');
  const groupRoles = await checkGroupRoles(ctx, input.groupRoles);
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
    groups_claim: groupsClaim,
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
    await trx.deleteFrom('oidc_group_roles').where('provider_id', '=', input.id).execute();
    if (groupRoles.length > 0) {
      await trx
        .insertInto('oidc_group_roles')
        .values(
          groupRoles.map((g) => ({
            provider_id: input.id,
            group_name: g.group,
            workspace_id: g.workspace,
            role: g.role,
            connector: g.connector,
          })),
        )
        .execute();
    }
  });
  await recordIam(ctx, {
    action: 'iam.oidc.provider.set',
    actor: input.actor,
    resource: { kind: 'oidc-provider', id: input.id },
    details: { issuer, clientSecret: sealed === null ? 'none' : 'sealed', groupRoles: groupRoles.length },
    ...withCorrelation(input.correlationId),
  });
  return getOidcProvider(ctx, input.id);
}

/** Each provider's group mappings, in a stable order. */
async function groupRolesOf(ctx: IamContext, providerId?: string): Promise<Map<string, GroupRole[]>> {
  let q = ctx.store.db.selectFrom('oidc_group_roles').selectAll();
  if (providerId !== undefined) q = q.where('provider_id', '=', providerId);
  const rows = await q.execute();
  const out = new Map<string, GroupRole[]>();
  for (const r of rows) {
    const list = out.get(r.provider_id) ?? [];
    list.push({
      group: r.group_name,
      workspace: r.workspace_id,
      role: r.role as Role,
      connector: r.connector,
    });
    out.set(r.provider_id, list);
  }
  const order = (g: GroupRole): string => JSON.stringify([g.group, g.workspace, g.role, g.connector]);
  for (const list of out.values())
    list.sort((a, b) => (order(a) < order(b) ? -1 : order(a) > order(b) ? 1 : 0));
  return out;
}

export async function listOidcProviders(ctx: IamContext): Promise<OidcProvider[]> {
  const rows = await ctx.store.db.selectFrom('oidc_providers').selectAll().orderBy('id').execute();
  const roles = await groupRolesOf(ctx);
  return rows.map((r) => toProvider(r, roles.get(r.id) ?? []));
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
  return toProvider(row, (await groupRolesOf(ctx, id)).get(id) ?? []);
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
  const provider = await getOidcProvider(ctx, providerId);
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
    // Providers that conform ID token claims put email (and groups) in the UserInfo response instead.
    const needGroups = provider.groupRoles.length > 0 && !(provider.groupsClaim in idClaims);
    claims =
      typeof idClaims.email === 'string' && !needGroups
        ? { ...idClaims }
        : {
            ...idClaims,
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
  // The roles the provider's groups give, as of this sign-in: added, and revoked once the group is gone.
  const groups = groupsIn(claims[provider.groupsClaim]);
  await syncManagedGrants(ctx, {
    userId,
    managedBy: `oidc:${providerId}`,
    desired: provider.groupRoles.filter((g) => groups.has(g.group)),
    ...withCorrelation(correlationId),
  });
  return toUser(row);
}

/** The group names in a groups claim: a list of strings, or one string; anything else is no groups. */
function groupsIn(claim: unknown): Set<string> {
  if (typeof claim === 'string') return new Set([claim]);
  if (!Array.isArray(claim)) return new Set();
  return new Set(claim.filter((g): g is string => typeof g === 'string'));
}
