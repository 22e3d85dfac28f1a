// Workspaces: list the ones the caller holds a role in, create one (an admin; its keyring and
// ledger start with it), and show one.
import type { FastifyPluginAsync } from 'fastify';
import type { Host } from '../../host/index.ts';
import {
  addGrant,
  checkWorkspaceId,
  createWorkspace,
  listWorkspaces,
  recordIam,
  requireWorkspace,
} from '../../iam/index.ts';
import { apiRoute } from '../plugins/api-route.ts';
import { serverIamOf } from '../plugins/authn.ts';
import { body, list, TEXT, WORKSPACE_PARAM } from '../plugins/schemas.ts';

const WORKSPACE = {
  type: 'object',
  properties: { id: { type: 'string' }, name: { type: 'string' }, createdAt: { type: 'string' } },
};

export function workspaceRoutes(host: Host): FastifyPluginAsync {
  return (app) => {
    const iam = serverIamOf(host);
    apiRoute(app, iam, {
      method: 'GET',
      url: '/api/v1/workspaces',
      action: 'workspace.list',
      summary: 'Workspaces the caller holds a role in',
      tags: ['workspaces'],
      responses: { 200: { description: 'Workspaces', schema: list(WORKSPACE) } },
      handler: async ({ principal }) => {
        const mine = new Set(principal.grants.map((g) => g.workspace));
        return (await listWorkspaces(iam.ctx.store.db)).filter((w) => mine.has(w.id));
      },
    });
    apiRoute<Record<string, never>, Record<string, never>, { id: string; name?: string }>(app, iam, {
      method: 'POST',
      url: '/api/v1/workspaces',
      action: 'workspace.create',
      summary: 'Create a workspace with its keyring',
      tags: ['workspaces'],
      body: body({ id: { type: 'string', pattern: '^[a-z][a-z0-9-]{0,62}$' }, name: TEXT(200) }, ['id']),
      responses: { 201: { description: 'Created', schema: WORKSPACE } },
      handler: async ({ body: input, actor, principal, correlationId, reply }) => {
        const id = checkWorkspaceId(input.id, 'id');
        await createWorkspace(iam.ctx.store.db, id, input.name ?? id);
        await host.keyring.initWorkspace(id, actor);
        // A person who creates a workspace administers it; an installation token does not need to.
        if (principal.user?.kind === 'user') {
          await addGrant(iam.ctx, {
            userId: principal.user.id,
            workspace: id,
            role: 'admin',
            actor,
            correlationId,
          });
        }
        await recordIam(iam.ctx, {
          action: 'iam.workspace.create',
          actor,
          ledger: id,
          resource: { kind: 'workspace', id },
          correlationId,
        });
        const created = (await listWorkspaces(iam.ctx.store.db)).find((w) => w.id === id);
        return reply.code(201).send(created);
      },
    });
    apiRoute<{ workspace: string }>(app, iam, {
      method: 'GET',
      url: '/api/v1/workspaces/:workspace',
      action: 'workspace.read',
      summary: 'One workspace',
      tags: ['workspaces'],
      params: WORKSPACE_PARAM,
      responses: { 200: { description: 'Workspace', schema: WORKSPACE } },
      handler: async ({ params: p }) => {
        await requireWorkspace(iam.ctx.store.db, p.workspace);
        return (await listWorkspaces(iam.ctx.store.db)).find((w) => w.id === p.workspace);
      },
    });
    return Promise.resolve();
  };
}
