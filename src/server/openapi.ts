// The OpenAPI 3.1 document of the API, generated from the routes as registered: declared routes
// contribute their JSON Schemas, action and roles; routes registered outside the route table are
// listed with what can be known about them, so nothing the server answers is undocumented.
import { ACTIONS, isActionName } from '../iam/index.ts';
import type { JsonSchema, RouteMeta } from './plugins/api-route.ts';

export interface CollectedRoute {
  readonly method: string;
  readonly url: string;
  readonly meta?: RouteMeta;
}

/** How a route authenticates: no credential, a token or session, or a webhook signature. */
export type RouteAuth = 'public' | 'credential' | 'signature';

const SIGNATURE_PREFIXES = ['/hooks/'];

export function authOf(route: CollectedRoute): RouteAuth {
  if (route.meta?.action === 'public') return 'public';
  if (route.meta === undefined && SIGNATURE_PREFIXES.some((p) => route.url.startsWith(p))) return 'signature';
  return 'credential';
}

export function actionOf(route: CollectedRoute): string {
  return route.meta?.action ?? `route:${route.method} ${route.url}`;
}

const PROBLEM: JsonSchema = {
  type: 'object',
  required: ['type', 'title', 'status', 'code', 'detail'],
  properties: {
    type: { type: 'string', format: 'uri-reference' },
    title: { type: 'string' },
    status: { type: 'integer' },
    code: { type: 'string', description: 'Stable error code (docs/errors.md)' },
    detail: { type: 'string' },
    instance: { type: 'string' },
    field: { type: 'string', description: 'The field that broke a rule (JSON Pointer, header or parameter)' },
    rule: { type: 'string' },
    problems: {
      type: 'array',
      items: { type: 'object', properties: { field: { type: 'string' }, rule: { type: 'string' } } },
    },
  },
};

function problemResponse(description: string): Record<string, unknown> {
  return {
    description,
    content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
  };
}

function parametersOf(schema: JsonSchema | undefined, location: 'path' | 'query', url: string): unknown[] {
  const props = (schema?.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((schema?.required ?? []) as string[]);
  const names = Object.keys(props);
  if (location === 'path') {
    for (const m of url.matchAll(/:([A-Za-z0-9_]+)/g))
      if (m[1] !== undefined && !names.includes(m[1])) names.push(m[1]);
  }
  return names.map((name) => ({
    name,
    in: location,
    required: location === 'path' || required.has(name),
    schema: props[name] ?? { type: 'string' },
  }));
}

function operationOf(route: CollectedRoute): Record<string, unknown> {
  const meta = route.meta;
  const auth = authOf(route);
  const action = actionOf(route);
  const spec = isActionName(action) ? ACTIONS[action] : undefined;
  const responses: Record<string, unknown> = {};
  for (const [status, doc] of Object.entries(meta?.responses ?? { 200: { description: 'Success' } })) {
    responses[status] =
      doc.schema === undefined
        ? { description: doc.description }
        : { description: doc.description, content: { 'application/json': { schema: doc.schema } } };
  }
  responses['400'] ??= problemResponse('Invalid input: the problem names the field and the rule');
  if (auth !== 'public') {
    responses['401'] ??= problemResponse('No valid credential');
    responses['403'] ??= problemResponse('Denied by the access policy');
  }
  responses['429'] ??= problemResponse('Rate limited');
  responses.default = problemResponse('Error (RFC 9457 problem details)');
  const op: Record<string, unknown> = {
    operationId: `${route.method.toLowerCase()}${route.url.replace(/:([A-Za-z0-9_]+)/g, 'By_$1').replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ?? '').toUpperCase())}`,
    summary: meta?.summary ?? 'Route registered outside the route table',
    tags: meta?.tags ?? ['other'],
    parameters: [
      ...parametersOf(meta?.params, 'path', route.url),
      ...parametersOf(meta?.query, 'query', route.url),
    ],
    responses,
    security:
      auth === 'public'
        ? []
        : auth === 'signature'
          ? [{ webhookSignature: [] }]
          : [{ bearerAuth: [] }, { sessionCookie: [] }],
    'x-custos-action': action,
    'x-custos-auth': auth,
    ...(spec === undefined ? {} : { 'x-custos-roles': spec.roles === 'self' ? ['self'] : [...spec.roles] }),
  };
  if (meta?.body !== undefined) {
    op.requestBody = { required: true, content: { 'application/json': { schema: meta.body } } };
  }
  return op;
}

export function toOpenApiPath(url: string): string {
  return url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

/** The OpenAPI 3.1 document for `routes` (HEAD and OPTIONS are left out). */
export function buildOpenApi(routes: readonly CollectedRoute[], version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  const sorted = [...routes]
    .filter((r) => r.method !== 'HEAD' && r.method !== 'OPTIONS')
    .sort((a, b) => a.url.localeCompare(b.url) || a.method.localeCompare(b.method));
  for (const r of sorted) {
    const path = toOpenApiPath(r.url);
    paths[path] ??= {};
    paths[path][r.method.toLowerCase()] = operationOf(r);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Custos API',
      version,
      description:
        'Errors are RFC 9457 problem details with a stable code (docs/errors.md); access is decided per route by the Cedar policy set (docs/access.md).',
    },
    jsonSchemaDialect: 'https://spec.openapis.org/oas/3.1/dialect/base',
    paths,
    components: {
      schemas: { Problem: PROBLEM },
      securitySchemes: {
        bearerAuth: {
          type: 'http',
          scheme: 'bearer',
          description: 'API token (cus_…), scoped to a workspace and roles',
        },
        sessionCookie: {
          type: 'apiKey',
          in: 'cookie',
          name: '__Host-custos_session',
          description: 'Browser session; unsafe methods also need the x-csrf-token header',
        },
        webhookSignature: { type: 'apiKey', in: 'header', name: 'custos-signature' },
      },
    },
  };
}
