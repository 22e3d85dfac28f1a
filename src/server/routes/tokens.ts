// API tokens of a workspace: list (metadata only, never the token or its hash), create (shown
// once; personal tokens never exceed their owner's roles), revoke (effective on the next request).
import type { FastifyPluginAsync } from 'fastify';
import type { Host } from '../../host/index.ts';
import { createApiToken, listTokens, revokeApiToken, type Role } from '../../iam/index.ts';
import { apiRoute } from '../plugins/api-route.ts';
import { serverIamOf } from '../plugins/authn.ts';
import { body, idPattern, list, params, ROLE, TEXT, TOKEN, WORKSPACE_PARAM } from '../plugins/schemas.ts';

interface CreateBody {
  label: string;
  roles: Role[];
  expiresInDays?: number;
  ownerId?: string;
}

export function tokenRoutes(host: Host): FastifyPluginAsync {
  return (app) => {
    const iam = serverIamOf(host);
    apiRoute<{ workspace: string }>(app, iam, {
      method: 'GET',
      url: '/api/v1/workspaces/:workspace/tokens',
      action: 'token.list',
      summary: 'API tokens of the workspace (metadata only)',
      tags: ['tokens'],
      params: WORKSPACE_PARAM,
      responses: { 200: { description: 'Tokens', schema: list(TOKEN) } },
      handler: ({ params: p }) => listTokens(iam.ctx.store.db, p.workspace),
    });
    apiRoute<{ workspace: string }, Record<string, never>, CreateBody>(app, iam, {
      method: 'POST',
      url: '/api/v1/workspaces/:workspace/tokens',
      action: 'token.create',
      summary: 'Create an API token; the token is in this response only',
      tags: ['tokens'],
      params: WORKSPACE_PARAM,
      body: body(
        {
          label: TEXT(100),
          roles: { type: 'array', minItems: 1, maxItems: 6, uniqueItems: true, items: ROLE },
          expiresInDays: { type: 'integer', minimum: 1, maximum: 365 },
          ownerId: idPattern('usr'),
        },
        ['label', 'roles'],
      ),
      responses: {
        201: {
          description: 'Created',
          schema: { type: 'object', properties: { token: { type: 'string' }, metadata: TOKEN } },
        },
      },
      handler: async ({ params: p, body: input, principal, correlationId, reply }) => {
        const created = await createApiToken(iam.ctx, {
          caller: principal,
          workspace: p.workspace,
          roles: input.roles,
          label: input.label,
          ...(input.expiresInDays === undefined ? {} : { expiresInDays: input.expiresInDays }),
          ...(input.ownerId === undefined ? {} : { ownerId: input.ownerId }),
          correlationId,
        });
        return reply.code(201).send(created);
      },
    });
    apiRoute<{ workspace: string; tokenId: string }>(app, iam, {
      method: 'DELETE',
      url: '/api/v1/workspaces/:workspace/tokens/:tokenId',
      action: 'token.revoke',
      summary: 'Revoke an API token',
      tags: ['tokens'],
      params: params({ tokenId: { type: 'string', pattern: '^[0-9a-f]{16}$' } }),
      responses: { 204: { description: 'Revoked' } },
      handler: async ({ params: p, actor, correlationId, reply }) => {
        await revokeApiToken(iam.ctx, { workspace: p.workspace, id: p.tokenId, actor, correlationId });
        return reply.code(204).send();
      },
    });
    return Promise.resolve();
  };
}
