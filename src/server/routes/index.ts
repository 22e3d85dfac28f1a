// Every route plugin the API serves; each capability contributes one factory taking the host.
import type { FastifyPluginAsync } from 'fastify';
import type { Host } from '../../host/index.ts';

export type RouteFactory = (host: Host) => FastifyPluginAsync;

export const ROUTES: readonly RouteFactory[] = [];
