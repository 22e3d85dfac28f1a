// Response headers every answer carries: the request id, no sniffing or framing, no referrer, a
// closed content security policy, HSTS, and no caching unless a route says otherwise. No CORS
// headers are ever sent, so browsers keep cross-origin callers out.
import type { FastifyInstance } from 'fastify';

export function installSecurityHeaders(app: FastifyInstance): void {
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
    reply.header('x-content-type-options', 'nosniff');
    reply.header('x-frame-options', 'DENY');
    reply.header('referrer-policy', 'no-referrer');
    reply.header('content-security-policy', "default-src 'none'; frame-ancestors 'none'");
    reply.header('strict-transport-security', 'max-age=63072000; includeSubDomains');
    reply.header('cross-origin-opener-policy', 'same-origin');
    reply.header('cross-origin-resource-policy', 'same-origin');
    reply.header('cache-control', reply.getHeader('cache-control') ?? 'no-store');
    reply.removeHeader('access-control-allow-origin');
    reply.removeHeader('access-control-allow-credentials');
  });
}
