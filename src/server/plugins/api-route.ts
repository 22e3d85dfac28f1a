// The one way API routes are declared: method, URL, Cedar action, JSON Schemas of params, query
// and body, and documentation. The same declaration drives validation, authentication,
// authorization (before validation, so a caller without access learns nothing from 400s), the
// OpenAPI document and the route × role matrix test.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { CustosError } from '../../errors/index.ts';
import {
  ACTIONS,
  WORKSPACE_ID,
  type ActionName,
  type AuthzContext,
  type Principal,
} from '../../iam/index.ts';
import type { Actor } from '../../ledger/index.ts';
import { authorizeRequest, identityOf, resolvePrincipal, type Identity, type ServerIam } from './authn.ts';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export type JsonSchema = Readonly<Record<string, unknown>>;

export interface ResponseDoc {
  readonly description: string;
  readonly schema?: JsonSchema;
}

/** What every route declares; kept on the route's config for the OpenAPI document. */
export interface RouteMeta {
  readonly method: HttpMethod;
  readonly url: string;
  /** A catalog action, or `public` for the few routes that need no credential. */
  readonly action: ActionName | 'public';
  readonly summary: string;
  readonly tags: readonly string[];
  readonly params?: JsonSchema;
  readonly query?: JsonSchema;
  readonly body?: JsonSchema;
  readonly responses: Readonly<Record<number, ResponseDoc>>;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    custos?: RouteMeta;
  }
}

export interface RawInput {
  readonly params: Readonly<Record<string, unknown>>;
  readonly query: Readonly<Record<string, unknown>>;
  readonly body: unknown;
}

export interface ApiCall<P, Q, B> {
  readonly params: P;
  readonly query: Q;
  readonly body: B;
  readonly request: FastifyRequest;
  readonly reply: FastifyReply;
  readonly iam: ServerIam;
  readonly correlationId: string;
}

export interface AuthedCall<P, Q, B> extends ApiCall<P, Q, B> {
  readonly principal: Principal;
  readonly identity: Identity;
  readonly actor: Actor;
}

interface SpecBase<P, Q, B> extends Omit<RouteMeta, 'action'> {
  /** Attributes of the request for the policy (connector, environment, classification, purpose), from raw input. */
  readonly attributes?: (raw: RawInput) => Omit<AuthzContext, 'authKind' | 'mfa'> & { connector?: string };
  readonly _types?: [P, Q, B];
}

export interface ApiRouteSpec<P, Q, B> extends SpecBase<P, Q, B> {
  readonly action: ActionName;
  readonly handler: (call: AuthedCall<P, Q, B>) => Promise<unknown>;
}

export interface PublicRouteSpec<P, Q, B> extends SpecBase<P, Q, B> {
  readonly handler: (call: ApiCall<P, Q, B>) => Promise<unknown>;
}

function metaOf(spec: Omit<RouteMeta, 'action'>, action: RouteMeta['action']): RouteMeta {
  return {
    method: spec.method,
    url: spec.url,
    action,
    summary: spec.summary,
    tags: spec.tags,
    responses: spec.responses,
    ...(spec.params === undefined ? {} : { params: spec.params }),
    ...(spec.query === undefined ? {} : { query: spec.query }),
    ...(spec.body === undefined ? {} : { body: spec.body }),
  };
}

function schemaOf(spec: Omit<RouteMeta, 'action'>): Record<string, unknown> {
  return {
    ...(spec.params === undefined ? {} : { params: spec.params }),
    ...(spec.query === undefined ? {} : { querystring: spec.query }),
    ...(spec.body === undefined ? {} : { body: spec.body }),
  };
}

function record(value: unknown): Readonly<Record<string, unknown>> {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
}

/** Routes without a body schema take no body (an empty object is tolerated). */
function refuseStrayBody(request: FastifyRequest, declared: boolean): void {
  const b = request.body;
  if (declared || b === undefined || b === null) return;
  if (typeof b === 'object' && !Array.isArray(b) && Object.keys(b).length === 0) return;
  throw new CustosError('API_VALIDATION_FAILED', 'body: this route takes no body', {
    details: { field: 'body:/', rule: 'no body' },
  });
}

function workspaceParam(request: FastifyRequest): string {
  const ws = record(request.params).workspace;
  if (typeof ws !== 'string' || !WORKSPACE_ID.test(ws)) {
    throw new CustosError('API_VALIDATION_FAILED', 'path:/workspace is not a workspace id', {
      details: { field: 'path:/workspace', rule: WORKSPACE_ID.source },
    });
  }
  return ws;
}

/** Declare an authenticated, authorized API route. */
export function apiRoute<P = Record<string, string>, Q = Record<string, never>, B = undefined>(
  app: FastifyInstance,
  iam: ServerIam,
  spec: ApiRouteSpec<P, Q, B>,
): void {
  const action = ACTIONS[spec.action];
  app.route({
    method: spec.method,
    url: spec.url,
    schema: schemaOf(spec),
    config: { custos: metaOf(spec, spec.action) },
    onRequest: async (request) => {
      await resolvePrincipal(iam, request);
    },
    preValidation: async (request) => {
      const principal = await resolvePrincipal(iam, request);
      const workspace = action.scope === 'workspace' ? workspaceParam(request) : '*';
      const attrs =
        spec.attributes?.({
          params: record(request.params),
          query: record(request.query),
          body: request.body,
        }) ?? {};
      const { connector, ...context } = attrs;
      await authorizeRequest(iam, request, principal, {
        action: spec.action,
        spec: action,
        workspace,
        ...(connector === undefined ? {} : { connector }),
        context,
      });
      request.identity = identityOf(principal, workspace === '*' ? undefined : workspace);
      refuseStrayBody(request, spec.body !== undefined);
    },
    handler: async (request, reply) => {
      const principal = request.principal;
      const identity = request.identity;
      if (principal === undefined || identity === undefined)
        throw new CustosError('INTERNAL', 'Route ran without a principal');
      return spec.handler({
        params: request.params as P,
        query: request.query as Q,
        body: request.body as B,
        request,
        reply,
        iam,
        correlationId: request.id,
        principal,
        identity,
        actor: principal.actor,
      });
    },
  });
}

/** Declare a public route (health, sign-in, SSO): no credential needed, still validated and rate limited. */
export function publicRoute<P = Record<string, string>, Q = Record<string, never>, B = undefined>(
  app: FastifyInstance,
  iam: ServerIam,
  spec: PublicRouteSpec<P, Q, B>,
): void {
  app.route({
    method: spec.method,
    url: spec.url,
    schema: schemaOf(spec),
    config: { custos: metaOf(spec, 'public') },
    preValidation: async (request) => {
      refuseStrayBody(request, spec.body !== undefined);
      return Promise.resolve();
    },
    handler: async (request, reply) =>
      spec.handler({
        params: request.params as P,
        query: request.query as Q,
        body: request.body as B,
        request,
        reply,
        iam,
        correlationId: request.id,
      }),
  });
}
