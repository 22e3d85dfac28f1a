// Authentication and authorization at the edge: the credential of a request (bearer token or
// session cookie with its CSRF token), the principal it names, and the Cedar decision for an
// action, with every denial recorded in the ledger under the request's correlation id.
import type { FastifyRequest } from 'fastify';
import { CustosError } from '../../errors/index.ts';
import type { Host } from '../../host/index.ts';
import {
  ACTIONS,
  checkCsrf,
  DEFAULT_IAM_SETTINGS,
  principalFromSession,
  principalFromToken,
  enforce,
  noteUse,
  type ActionName,
  type ActionSpec,
  type AuthzContext,
  type IamContext,
  type Principal,
  type RelyingParty,
  type TokenIdentity,
} from '../../iam/index.ts';
import type { Actor } from '../../ledger/index.ts';
import { parseCookies, SESSION_COOKIE } from './cookies.ts';

/** What the server keeps per installation for IAM: the context, the relying party, its public URL. */
export interface ServerIam {
  readonly ctx: IamContext;
  readonly rp: RelyingParty;
  readonly publicUrl: string;
}

/** The identity route handlers get: the token-shaped view older routes use, and the principal. */
export interface Identity extends TokenIdentity {
  readonly principal: Principal;
  readonly actor: Actor;
}

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
    identity?: Identity;
  }
}

const servers = new WeakMap<Host, ServerIam>();

function defaultServerIam(host: Host): ServerIam {
  const publicUrl = (host.config.server.publicUrl ?? `http://localhost:${host.config.server.port}`).replace(
    /\/$/,
    '',
  );
  return {
    ctx: {
      store: host.store,
      root: host.root,
      audit: host.audit,
      clock: () => new Date(),
      settings: DEFAULT_IAM_SETTINGS,
    },
    rp: { id: new URL(publicUrl).hostname, name: 'Custos', origin: new URL(publicUrl).origin },
    publicUrl,
  };
}

export function registerServerIam(host: Host, iam: ServerIam): void {
  servers.set(host, iam);
}

/** The IAM state of `host`, made with defaults when no app registered one. */
export function serverIamOf(host: Host): ServerIam {
  let iam = servers.get(host);
  if (iam === undefined) {
    iam = defaultServerIam(host);
    servers.set(host, iam);
  }
  return iam;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export interface Credential {
  readonly kind: 'bearer' | 'cookie';
  readonly value: string;
}

/** The credential a request presents: a bearer token wins over a session cookie. */
export function credentialOf(request: FastifyRequest): Credential | undefined {
  const header = request.headers.authorization;
  if (typeof header === 'string' && header !== '') {
    const m = /^Bearer +(\S{1,512})$/i.exec(header);
    return { kind: 'bearer', value: m?.[1] ?? '' };
  }
  const cookie = parseCookies(request.headers.cookie).get(SESSION_COOKIE);
  return cookie === undefined || cookie === '' ? undefined : { kind: 'cookie', value: cookie };
}

/**
 * The principal of a request (cached on it). Throws UNAUTHENTICATED without credentials,
 * IAM_TOKEN_INVALID, IAM_SESSION_INVALID, and IAM_CSRF_INVALID for an unsafe cookie request
 * without the session's CSRF token.
 */
export async function resolvePrincipal(iam: ServerIam, request: FastifyRequest): Promise<Principal> {
  if (request.principal !== undefined) return request.principal;
  const credential = credentialOf(request);
  if (credential === undefined) {
    throw new CustosError('UNAUTHENTICATED', 'Sign in or present a bearer token', {
      details: { field: 'authorization', rule: 'Bearer token or session cookie' },
    });
  }
  let principal: Principal;
  if (credential.kind === 'bearer') {
    principal = await principalFromToken(iam.ctx, credential.value);
  } else {
    principal = await principalFromSession(iam.ctx, credential.value);
    const csrf = request.headers['x-csrf-token'];
    if (
      !SAFE_METHODS.has(request.method) &&
      !checkCsrf(credential.value, typeof csrf === 'string' ? csrf : undefined)
    ) {
      throw new CustosError('IAM_CSRF_INVALID', 'The x-csrf-token header must carry the session CSRF token', {
        details: { field: 'x-csrf-token', rule: 'CSRF token of this session' },
      });
    }
  }
  request.principal = principal;
  return principal;
}

export interface AuthorizeInput {
  readonly action: string;
  readonly spec: ActionSpec;
  /** A workspace id, or `*` for installation-wide actions. */
  readonly workspace: string;
  readonly connector?: string;
  readonly context?: Omit<AuthzContext, 'authKind' | 'mfa'>;
}

/** Decide with Cedar; a denial is recorded and thrown as IAM_ACCESS_DENIED (403). */
export async function authorizeRequest(
  iam: ServerIam,
  request: FastifyRequest,
  principal: Principal,
  input: AuthorizeInput,
): Promise<void> {
  const decision = await enforce(iam.ctx, {
    principal,
    actor: principal.actor,
    action: input.action,
    spec: input.spec,
    workspace: input.workspace,
    ...(input.connector === undefined ? {} : { connector: input.connector }),
    context: { ...input.context, authKind: principal.via, mfa: principal.mfa },
    resource: {
      kind: 'route',
      id: `${request.method} ${request.routeOptions.url ?? request.url}`.slice(0, 512),
    },
    correlationId: request.id,
    credentialField: 'authorization',
  });
  await noteUse(iam.ctx, principal, decision, input.workspace);
}

/** The token-shaped identity older routes read (`tokenId`, `workspaceId`, `roles`). */
export function identityOf(principal: Principal, workspace: string | undefined): Identity {
  const ws = workspace ?? principal.token?.workspaceId ?? principal.grants[0]?.workspace ?? '*';
  const roles = [...new Set(principal.grants.filter((g) => g.workspace === ws).map((g) => g.role))];
  return {
    tokenId: principal.token?.tokenId ?? principal.id,
    workspaceId: ws,
    roles,
    label: principal.token?.label ?? principal.user?.displayName ?? principal.id,
    ownerId: principal.user?.id ?? null,
    principal,
    actor: principal.actor,
  };
}

/**
 * Authenticate a request and authorize catalog `action` on `workspace` (installation-wide when
 * undefined or `system`), for the few routes outside /api/v1 that cannot be declared with
 * `apiRoute` (ledger tiles, metrics). Throws UNAUTHENTICATED / IAM_TOKEN_INVALID /
 * IAM_SESSION_INVALID (401), IAM_CSRF_INVALID and IAM_ACCESS_DENIED (403).
 */
export async function authenticate(
  host: Host,
  request: FastifyRequest,
  action: ActionName,
  workspace?: string,
): Promise<Identity> {
  const iam = serverIamOf(host);
  const principal = await resolvePrincipal(iam, request);
  const ws = workspace === undefined || workspace === 'system' ? '*' : workspace;
  await authorizeRequest(iam, request, principal, { action, spec: ACTIONS[action], workspace: ws });
  const identity = identityOf(principal, ws === '*' ? undefined : ws);
  request.identity = identity;
  return identity;
}
