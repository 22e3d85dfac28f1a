// `GET /metrics`: Prometheus text exposition of the runtime's metrics (labels carry identifiers only).
// Requires a bearer token of an operator, admin or auditor, like every other route.
import type { FastifyPluginAsync } from 'fastify';
import type { Host } from '../../host/index.ts';
import { authenticate } from '../app.ts';
import type { RouteMeta } from '../plugins/api-route.ts';
import { runtimeOf } from './runs.ts';

export function metricsRoutes(host: Host): FastifyPluginAsync {
  return (app) => {
    const meta: RouteMeta = {
      method: 'GET',
      url: '/metrics',
      action: 'metrics.read',
      summary: 'Prometheus text exposition of the runtime metrics',
      tags: ['metrics'],
      responses: { 200: { description: 'text/plain; version=0.0.4' } },
    };
    app.get('/metrics', { config: { custos: meta } }, async (request, reply) => {
      await authenticate(host, request, 'metrics.read');
      const { metrics } = runtimeOf(host);
      return reply.type(metrics.contentType).send(await metrics.render());
    });
    return Promise.resolve();
  };
}
