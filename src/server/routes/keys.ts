// Workspace key management over the API: list KEK versions (states and counts, never key
// material) and rotate the active version. Destruction and rewrap stay operator commands.
import type { FastifyPluginAsync } from 'fastify';
import type { Host } from '../../host/index.ts';
import { apiRoute } from '../plugins/api-route.ts';
import { serverIamOf } from '../plugins/authn.ts';
import { list, WORKSPACE_PARAM } from '../plugins/schemas.ts';

const KEK_VERSION = {
  type: 'object',
  properties: {
    workspaceId: { type: 'string' },
    version: { type: 'integer' },
    state: { enum: ['active', 'decrypt_only', 'destroyed'] },
    wrapCount: { type: 'integer' },
    dekCount: { type: 'integer' },
    subjectKeyCount: { type: 'integer' },
    createdAt: { type: 'string' },
    retiredAt: { type: ['string', 'null'] },
    destroyedAt: { type: ['string', 'null'] },
  },
};

export function keyRoutes(host: Host): FastifyPluginAsync {
  return (app) => {
    const iam = serverIamOf(host);
    apiRoute<{ workspace: string }>(app, iam, {
      method: 'GET',
      url: '/api/v1/workspaces/:workspace/keys',
      action: 'key.list',
      summary: 'KEK versions of the workspace keyring',
      tags: ['keys'],
      params: WORKSPACE_PARAM,
      responses: { 200: { description: 'Versions', schema: list(KEK_VERSION) } },
      handler: ({ params: p }) => host.keyring.list(p.workspace),
    });
    apiRoute<{ workspace: string }>(app, iam, {
      method: 'POST',
      url: '/api/v1/workspaces/:workspace/keys/rotate',
      action: 'key.rotate',
      summary: 'Rotate the workspace KEK: a new active version; older ones decrypt only',
      tags: ['keys'],
      params: WORKSPACE_PARAM,
      responses: { 200: { description: 'The new active version', schema: KEK_VERSION } },
      handler: ({ params: p, actor }) => host.keyring.rotate(p.workspace, actor),
    });
    return Promise.resolve();
  };
}
