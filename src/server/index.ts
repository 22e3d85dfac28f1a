// Public surface of server/: the Fastify app and its auth and problem helpers.
export { buildApp, authenticate, sendProblem } from './app.ts';
export type { AppOptions } from './app.ts';
export type { RouteFactory } from './routes/index.ts';
