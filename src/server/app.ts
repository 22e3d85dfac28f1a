// The HTTP edge: Fastify with RFC 9457 problem+json errors, request ids, security headers, guarded
// JSON bodies, schema validation, per-identity rate limits, authentication and Cedar authorization,
// and the OpenAPI document. Capabilities register their routes from routes/index.ts.
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { randomUUID } from 'node:crypto';
import { CustosError, toProblem } from '../errors/index.ts';
import type { Host } from '../host/index.ts';
import { DEFAULT_IAM_SETTINGS, expireElevations, type IamSettings } from '../iam/index.ts';
import { scrubSecrets } from '../observe/index.ts';
import { buildOpenApi, type CollectedRoute } from './openapi.ts';
import { apiRoute, publicRoute } from './plugins/api-route.ts';
import { credentialOf, registerServerIam, type ServerIam } from './plugins/authn.ts';
import { DEFAULT_BODY_LIMITS, installBodyGuard, type BodyLimits } from './plugins/body-guard.ts';
import {
  DatabaseRateLimiter,
  DEFAULT_RATE_LIMITS,
  MemoryRateLimiter,
  type RateLimiter,
  type RateLimits,
} from './plugins/rate-limit.ts';
import { installSecurityHeaders } from './plugins/security-headers.ts';
import { installValidation } from './plugins/validation.ts';
import { ROUTES, type RouteFactory } from './routes/index.ts';

export { authenticate } from './plugins/authn.ts';
export type { Identity } from './plugins/authn.ts';

export interface AppOptions {
  readonly host: Host;
  /** Largest request body in bytes (default 1 MiB). */
  readonly bodyLimit?: number;
  readonly bodyLimits?: Partial<BodyLimits>;
  readonly rateLimits?: Partial<RateLimits>;
  readonly iam?: {
    readonly settings?: Partial<IamSettings>;
    readonly clock?: () => Date;
    /** The console's public URL (SSO redirects, WebAuthn origin); default server.publicUrl. */
    readonly publicUrl?: string;
  };
  /** How often approved elevations past their deadline are closed in the ledger (ms; 0: never). */
  readonly expiryIntervalMs?: number;
  /** The route plugins to serve (default: all); a worker process serves only its /metrics. */
  readonly routes?: readonly RouteFactory[];
}

/** Reply with an RFC 9457 problem for any error; unexpected errors are logged, never echoed. */
export function sendProblem(reply: FastifyReply, request: FastifyRequest, err: unknown): FastifyReply {
  const problem = toProblem(err, request.url.split('?')[0]);
  const body = JSON.parse(scrubSecrets(JSON.stringify(problem))) as unknown;
  if (problem.code === 'API_RATE_LIMITED' && typeof problem.retryAfter === 'number') {
    reply.header('retry-after', String(problem.retryAfter));
  }
  return reply.code(problem.status).type('application/problem+json').send(body);
}

function fastifyErrorToCustos(err: { statusCode?: number; code?: string }): CustosError | undefined {
  if (typeof err.statusCode !== 'number' || err.statusCode < 400 || err.statusCode >= 500) return undefined;
  const rule = err.code ?? 'valid request';
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new CustosError('API_BODY_TOO_LARGE', 'Request body is too large', {
        details: { field: 'body', rule: 'within the body size limit' },
      });
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new CustosError('API_MEDIA_TYPE_UNSUPPORTED', 'Send JSON (application/json)', {
        details: { field: 'content-type', rule: 'application/json' },
      });
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new CustosError('API_BODY_INVALID', 'Request body is not valid JSON', {
        details: { field: 'body', rule: 'RFC 8259 JSON' },
      });
    default:
      return new CustosError(
        err.statusCode === 413 ? 'INPUT_TOO_LARGE' : 'INPUT_INVALID',
        'The request is malformed',
        { details: { field: 'request', rule } },
      );
  }
}

function serverIam(options: AppOptions): ServerIam {
  const { host } = options;
  const publicUrl = (
    options.iam?.publicUrl ??
    host.config.server.publicUrl ??
    `http://localhost:${host.config.server.port}`
  ).replace(/\/$/, '');
  const url = new URL(publicUrl);
  return {
    ctx: {
      store: host.store,
      root: host.root,
      audit: host.audit,
      clock: options.iam?.clock ?? (() => new Date()),
      settings: { ...DEFAULT_IAM_SETTINGS, ...options.iam?.settings },
    },
    rp: { id: url.hostname, name: 'Custos', origin: url.origin },
    publicUrl,
  };
}

/** Build the Fastify app for an open installation. */
export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const { host } = options;
  const iam = serverIam(options);
  registerServerIam(host, iam);
  const bodyLimits: BodyLimits = {
    ...DEFAULT_BODY_LIMITS,
    maxBytes: options.bodyLimit ?? DEFAULT_BODY_LIMITS.maxBytes,
    ...options.bodyLimits,
  };
  const limits = { ...DEFAULT_RATE_LIMITS, ...options.rateLimits };
  // On PostgreSQL several API processes may serve one installation: they share the windows.
  const limiter: RateLimiter =
    host.store.dialect === 'postgres'
      ? new DatabaseRateLimiter(host.store.db, limits)
      : new MemoryRateLimiter(limits);
  const app = Fastify({
    logger: false,
    bodyLimit: bodyLimits.maxBytes,
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    routerOptions: { maxParamLength: 200 },
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && /^[A-Za-z0-9._-]{1,128}$/.test(given) ? given : randomUUID();
    },
  });
  const routes: CollectedRoute[] = [];
  app.addHook('onRoute', (r) => {
    for (const method of Array.isArray(r.method) ? r.method : [r.method]) {
      routes.push({
        method,
        url: r.url,
        ...(r.config?.custos === undefined ? {} : { meta: r.config.custos }),
      });
    }
  });
  installBodyGuard(app, bodyLimits);
  installValidation(app);
  installSecurityHeaders(app);
  app.addHook('onRequest', async (request) => {
    await limiter.hit(credentialOf(request)?.value, request.ip);
  });
  app.setErrorHandler((err, request, reply) => {
    if (err instanceof CustosError) return sendProblem(reply, request, err);
    const mapped = fastifyErrorToCustos(err as { statusCode?: number; code?: string });
    if (mapped !== undefined) return sendProblem(reply, request, mapped);
    host.logger.error('unexpected error', { err, requestId: request.id });
    return sendProblem(reply, request, err);
  });
  app.setNotFoundHandler((request, reply) =>
    sendProblem(
      reply,
      request,
      new CustosError('NOT_FOUND', 'No such route', { details: { field: 'url', rule: 'known route' } }),
    ),
  );
  publicRoute(app, iam, {
    method: 'GET',
    url: '/healthz',
    summary: 'Liveness: answers while the process serves requests',
    tags: ['meta'],
    responses: {
      200: { description: 'Serving', schema: { type: 'object', properties: { status: { const: 'ok' } } } },
    },
    handler: () => Promise.resolve({ status: 'ok' }),
  });
  let document: Record<string, unknown> | undefined;
  apiRoute(app, iam, {
    method: 'GET',
    url: '/api/v1/openapi.json',
    action: 'api.describe',
    summary: 'The OpenAPI 3.1 document of this API',
    tags: ['meta'],
    responses: { 200: { description: 'OpenAPI 3.1 document' } },
    handler: () => {
      document ??= buildOpenApi(routes, '1');
      return Promise.resolve(document);
    },
  });
  for (const route of options.routes ?? ROUTES) await app.register(route(host));
  const every = options.expiryIntervalMs ?? 30_000;
  if (every > 0) {
    const timer = setInterval(() => {
      expireElevations(iam.ctx).catch((err: unknown) => {
        host.logger.warn('elevation expiry failed', { err });
      });
    }, every);
    timer.unref();
    app.addHook('onClose', (_instance, done) => {
      clearInterval(timer);
      done();
    });
  }
  return app;
}
