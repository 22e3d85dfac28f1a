// `GET /metrics`: Prometheus text exposition of the runtime's metrics (labels carry identifiers only).
// Requires a bearer token of an operator, admin or auditor, like every other route.
import type { FastifyPluginAsync } from 'fastify';
import type { Host } from '../../host/index.ts';
import { authenticate } from '../app.ts';
import { runtimeOf } from './runs.ts';

export function metricsRoutes(host: Host): FastifyPluginAsync {
  return (app) => {
    app.get('/metrics', async (request, reply) => {
      await authenticate(host, request, ['admin', 'operator', 'auditor']);
      const { metrics } = runtimeOf(host);
      return reply.type(metrics.contentType).send(await metrics.render());
    });
    return Promise.resolve();
  };
}
