// The HTTP edge: Fastify with RFC 9457 problem+json errors, request ids, security headers and
// bearer-token authentication. Capabilities register their routes from routes/index.ts.
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { randomUUID } from 'node:crypto';
import { CustosError, toProblem } from '../errors/index.ts';
import type { Host } from '../host/index.ts';
import { verifyToken, type Role, type TokenIdentity } from '../iam/index.ts';
import { scrubSecrets } from '../observe/index.ts';
import { ROUTES } from './routes/index.ts';

declare module 'fastify' {
  interface FastifyRequest {
    identity?: TokenIdentity;
  }
}

export interface AppOptions {
  readonly host: Host;
  readonly bodyLimit?: number;
}

/** Reply with an RFC 9457 problem for any error; unexpected errors are logged, never echoed. */
export function sendProblem(reply: FastifyReply, request: FastifyRequest, err: unknown): FastifyReply {
  const problem = toProblem(err, request.url);
  const body = JSON.parse(scrubSecrets(JSON.stringify(problem))) as unknown;
  return reply.code(problem.status).type('application/problem+json').send(body);
}

/**
 * Require a bearer token holding one of `roles` (in any workspace when `workspace` is undefined).
 * Throws UNAUTHENTICATED (401) or FORBIDDEN (403).
 */
export async function authenticate(
  host: Host,
  request: FastifyRequest,
  roles: readonly Role[],
  workspace?: string,
): Promise<TokenIdentity> {
  const header = request.headers.authorization;
  const match = header === undefined ? null : /^Bearer ([A-Za-z0-9_-]{1,200})$/.exec(header);
  const identity = match?.[1] === undefined ? undefined : await verifyToken(host.store.db, match[1]);
  if (identity === undefined) {
    throw new CustosError('UNAUTHENTICATED', 'A valid bearer token is required', {
      details: { field: 'authorization', rule: 'Bearer token' },
    });
  }
  const allowed = identity.roles.some((r) => roles.includes(r));
  if (!allowed || (workspace !== undefined && workspace !== 'system' && identity.workspaceId !== workspace)) {
    throw new CustosError('FORBIDDEN', 'The token does not grant this operation', {
      details: { field: 'authorization', rule: `one of roles ${roles.join(', ')}` },
    });
  }
  request.identity = identity;
  return identity;
}

/** Build the Fastify app for an open installation. */
export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: false,
    bodyLimit: options.bodyLimit ?? 1024 * 1024,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && /^[A-Za-z0-9._-]{1,128}$/.test(given) ? given : randomUUID();
    },
  });
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
    reply.header('x-content-type-options', 'nosniff');
    reply.header('x-frame-options', 'DENY');
    reply.header('referrer-policy', 'no-referrer');
    reply.header('content-security-policy', "default-src 'none'; frame-ancestors 'none'");
    reply.header('cache-control', reply.getHeader('cache-control') ?? 'no-store');
  });
  app.setErrorHandler((err, request, reply) => {
    if (err instanceof CustosError) return sendProblem(reply, request, err);
    const fe = err as { statusCode?: number; code?: string };
    if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
      const code = fe.statusCode === 413 ? 'INPUT_TOO_LARGE' : 'INPUT_INVALID';
      return sendProblem(
        reply.code(fe.statusCode),
        request,
        new CustosError(code, 'The request is malformed', {
          details: { field: 'body', rule: fe.code ?? 'valid request' },
        }),
      );
    }
    options.host.logger.error('unexpected error', { err, requestId: request.id });
    return sendProblem(reply, request, err);
  });
  app.setNotFoundHandler((request, reply) =>
    sendProblem(
      reply,
      request,
      new CustosError('NOT_FOUND', 'No such route', { details: { field: 'url', rule: 'known route' } }),
    ),
  );
  app.get('/healthz', () => ({ status: 'ok' }));
  for (const route of ROUTES) await app.register(route(options.host));
  return app;
}
