// Public surface of server/: the Fastify app, its auth and problem helpers, the route declaration
// helpers and the OpenAPI generator.
export { buildApp, authenticate, sendProblem } from './app.ts';
export type { AppOptions, Identity } from './app.ts';
export type { RouteFactory } from './routes/index.ts';
export { metricsRoutes } from './routes/metrics.ts';
export { apiRoute, publicRoute } from './plugins/api-route.ts';
export type {
  ApiCall,
  AuthedCall,
  ApiRouteSpec,
  PublicRouteSpec,
  RouteMeta,
  JsonSchema,
} from './plugins/api-route.ts';
export { serverIamOf } from './plugins/authn.ts';
export type { ServerIam } from './plugins/authn.ts';
export { buildOpenApi, authOf, actionOf } from './openapi.ts';
export type { CollectedRoute, RouteAuth } from './openapi.ts';
