// Roles and access: the role catalog, role grants of a workspace, just-in-time elevation (ask,
// approve or deny by another admin, expiry by itself) and access reviews with one-step revocation.
import type { FastifyPluginAsync } from 'fastify';
import type { Host } from '../../host/index.ts';
import {
  accessReview,
  addGrant,
  checkUnusedDays,
  decideElevation,
  listElevations,
  listGrants,
  MFA_ROLES,
  requestElevation,
  revokeAccess,
  revokeGrants,
  ROLES,
  type Role,
} from '../../iam/index.ts';
import { apiRoute } from '../plugins/api-route.ts';
import { serverIamOf } from '../plugins/authn.ts';
import {
  body,
  CONNECTOR,
  ELEVATION,
  GRANT,
  idPattern,
  list,
  params,
  ROLE,
  TEXT,
  TOKEN,
  WORKSPACE_PARAM,
} from '../plugins/schemas.ts';

interface Ws {
  workspace: string;
}

export function accessRoutes(host: Host): FastifyPluginAsync {
  return (app) => {
    const iam = serverIamOf(host);
    apiRoute(app, iam, {
      method: 'GET',
      url: '/api/v1/roles',
      action: 'role.list',
      summary: 'The Custos roles and which of them demand a second factor',
      tags: ['access'],
      responses: { 200: { description: 'Roles' } },
      handler: () => Promise.resolve(ROLES.map((role) => ({ role, mfaRequired: MFA_ROLES.includes(role) }))),
    });
    apiRoute<Ws, { all?: boolean }>(app, iam, {
      method: 'GET',
      url: '/api/v1/workspaces/:workspace/grants',
      action: 'grant.list',
      summary: 'Role grants of the workspace (live ones unless all=true)',
      tags: ['access'],
      params: WORKSPACE_PARAM,
      query: { type: 'object', additionalProperties: false, properties: { all: { type: 'boolean' } } },
      responses: { 200: { description: 'Grants', schema: list(GRANT) } },
      handler: ({ params: p, query }) => listGrants(iam.ctx, p.workspace, query.all === true),
    });
    apiRoute<Ws, Record<string, never>, { userId: string; role: Role; connector?: string }>(app, iam, {
      method: 'POST',
      url: '/api/v1/workspaces/:workspace/grants',
      action: 'grant.create',
      summary: 'Grant a role in the workspace, for every connector or one',
      tags: ['access'],
      params: WORKSPACE_PARAM,
      body: body({ userId: idPattern('usr'), role: ROLE, connector: CONNECTOR }, ['userId', 'role']),
      responses: { 201: { description: 'Granted', schema: GRANT } },
      handler: async ({ params: p, body: input, actor, correlationId, reply }) => {
        const grant = await addGrant(iam.ctx, { ...input, workspace: p.workspace, actor, correlationId });
        return reply.code(201).send(grant);
      },
    });
    apiRoute<Ws & { grantId: string }>(app, iam, {
      method: 'DELETE',
      url: '/api/v1/workspaces/:workspace/grants/:grantId',
      action: 'grant.revoke',
      summary: 'Revoke a grant (effective on the next request)',
      tags: ['access'],
      params: params({ grantId: idPattern('grt') }),
      responses: { 204: { description: 'Revoked' } },
      handler: async ({ params: p, actor, correlationId, reply }) => {
        await revokeGrants(iam.ctx, p.workspace, [p.grantId], actor, 'revoke', correlationId);
        return reply.code(204).send();
      },
    });
    apiRoute<Ws, Record<string, never>, { role: Role; duration: string; reason: string }>(app, iam, {
      method: 'POST',
      url: '/api/v1/workspaces/:workspace/elevations',
      action: 'elevation.request',
      summary: 'Ask for a role for a while, saying why; another admin decides',
      tags: ['access'],
      params: WORKSPACE_PARAM,
      body: body(
        { role: ROLE, duration: { type: 'string', pattern: '^([0-9]{1,5}[smhd]){1,4}$' }, reason: TEXT(500) },
        ['role', 'duration', 'reason'],
      ),
      responses: { 201: { description: 'Requested', schema: ELEVATION } },
      handler: async ({ params: p, body: input, actor, correlationId, reply }) => {
        const e = await requestElevation(iam.ctx, { ...input, workspace: p.workspace, actor, correlationId });
        return reply.code(201).send(e);
      },
    });
    apiRoute<Ws>(app, iam, {
      method: 'GET',
      url: '/api/v1/workspaces/:workspace/elevations',
      action: 'elevation.list',
      summary: 'Elevation requests of the workspace, newest first',
      tags: ['access'],
      params: WORKSPACE_PARAM,
      responses: { 200: { description: 'Requests', schema: list(ELEVATION) } },
      handler: ({ params: p }) => listElevations(iam.ctx, p.workspace),
    });
    for (const decision of ['approve', 'deny'] as const) {
      apiRoute<Ws & { elevationId: string }>(app, iam, {
        method: 'POST',
        url: `/api/v1/workspaces/:workspace/elevations/:elevationId/${decision}`,
        action: 'elevation.decide',
        summary:
          decision === 'approve'
            ? 'Approve a request: the role is granted until it expires'
            : 'Deny a request',
        tags: ['access'],
        params: params({ elevationId: idPattern('elv') }),
        responses: { 200: { description: 'Decided', schema: ELEVATION } },
        handler: ({ params: p, actor, correlationId }) =>
          decideElevation(iam.ctx, {
            workspace: p.workspace,
            id: p.elevationId,
            approve: decision === 'approve',
            actor,
            correlationId,
          }),
      });
    }
    apiRoute<Ws, { unusedDays?: number }>(app, iam, {
      method: 'GET',
      url: '/api/v1/workspaces/:workspace/access-review',
      action: 'access.review',
      summary: 'Standing grants and tokens not used for unusedDays days (default 90)',
      tags: ['access'],
      params: WORKSPACE_PARAM,
      query: {
        type: 'object',
        additionalProperties: false,
        properties: { unusedDays: { type: 'integer', minimum: 0, maximum: 3650 } },
      },
      responses: {
        200: {
          description: 'Review',
          schema: {
            type: 'object',
            properties: { cutoff: { type: 'string' }, grants: list(GRANT), tokens: list(TOKEN) },
          },
        },
      },
      handler: ({ params: p, query }) =>
        accessReview(iam.ctx, p.workspace, checkUnusedDays(query.unusedDays ?? 90)),
    });
    apiRoute<Ws, Record<string, never>, { grantIds?: string[]; tokenIds?: string[] }>(app, iam, {
      method: 'POST',
      url: '/api/v1/workspaces/:workspace/access-review/revoke',
      action: 'access.revoke',
      summary: 'Revoke grants and tokens in one step (all or nothing)',
      tags: ['access'],
      params: WORKSPACE_PARAM,
      body: body({
        grantIds: { type: 'array', maxItems: 1000, uniqueItems: true, items: idPattern('grt') },
        tokenIds: {
          type: 'array',
          maxItems: 1000,
          uniqueItems: true,
          items: { type: 'string', pattern: '^[0-9a-f]{16}$' },
        },
      }),
      responses: { 200: { description: 'Counts revoked' } },
      handler: ({ params: p, body: input, actor, correlationId }) =>
        revokeAccess(iam.ctx, {
          workspace: p.workspace,
          grantIds: input.grantIds ?? [],
          tokenIds: input.tokenIds ?? [],
          actor,
          correlationId,
        }),
    });
    return Promise.resolve();
  };
}
