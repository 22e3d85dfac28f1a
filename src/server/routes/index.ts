// Every route plugin the API serves; each capability contributes one factory taking the host.
import type { FastifyPluginAsync } from 'fastify';
import type { Host } from '../../host/index.ts';
import { hookRoutes } from './hooks.ts';
import { ledgerRoutes } from './ledger.ts';
import { metricsRoutes } from './metrics.ts';
import { runRoutes } from './runs.ts';
import { authRoutes } from './auth.ts';
import { workspaceRoutes } from './workspaces.ts';
import { userRoutes } from './users.ts';
import { tokenRoutes } from './tokens.ts';
import { accessRoutes } from './access.ts';
import { keyRoutes } from './keys.ts';
import { secretRoutes } from './secrets.ts';
import { exportRoutes } from './exports.ts';
import { recordRoutes } from './records.ts';

export type RouteFactory = (host: Host) => FastifyPluginAsync;

export const ROUTES: readonly RouteFactory[] = [
  runRoutes,
  hookRoutes,
  metricsRoutes,
  ledgerRoutes,
  authRoutes,
  workspaceRoutes,
  userRoutes,
  tokenRoutes,
  accessRoutes,
  keyRoutes,
  secretRoutes,
  exportRoutes,
  recordRoutes,
];
