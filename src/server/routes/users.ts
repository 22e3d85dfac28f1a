// User administration (installation-wide): create users and service accounts, disable and enable
// them (effective on the next request), end their sessions, reset their second factors; and the
// single sign-on providers users sign in with.
import type { FastifyPluginAsync } from 'fastify';
import type { Host } from '../../host/index.ts';
import {
  activeGrantsOf,
  createUser,
  factorsOf,
  getUser,
  listOidcProviders,
  listUsers,
  recordIam,
  resetFactors,
  revokeUserSessions,
  setOidcProvider,
  setUserStatus,
} from '../../iam/index.ts';
import { apiRoute } from '../plugins/api-route.ts';
import { serverIamOf } from '../plugins/authn.ts';
import { body, CONNECTOR, idPattern, list, params, ROLE, TEXT, USER } from '../plugins/schemas.ts';

interface UserParams {
  userId: string;
}

const USER_PARAMS = params({ userId: idPattern('usr') }, false);

export function userRoutes(host: Host): FastifyPluginAsync {
  return (app) => {
    const iam = serverIamOf(host);
    apiRoute(app, iam, {
      method: 'GET',
      url: '/api/v1/users',
      action: 'user.list',
      summary: 'List users and service accounts',
      tags: ['users'],
      responses: { 200: { description: 'Users', schema: list(USER) } },
      handler: () => listUsers(iam.ctx),
    });
    apiRoute<
      Record<string, never>,
      Record<string, never>,
      { email: string; displayName?: string; kind?: 'user' | 'service'; password?: string }
    >(app, iam, {
      method: 'POST',
      url: '/api/v1/users',
      action: 'user.create',
      summary: 'Create a user (with an initial password or for SSO only) or a service account',
      tags: ['users'],
      body: body(
        {
          email: TEXT(254),
          displayName: TEXT(200),
          kind: { enum: ['user', 'service'] },
          password: TEXT(256),
        },
        ['email'],
      ),
      responses: { 201: { description: 'Created', schema: USER } },
      handler: async ({ body: input, actor, correlationId, reply }) => {
        const user = await createUser(iam.ctx, { ...input, actor, correlationId });
        return reply.code(201).send(user);
      },
    });
    apiRoute<UserParams>(app, iam, {
      method: 'GET',
      url: '/api/v1/users/:userId',
      action: 'user.read',
      summary: 'A user with its live grants and enrolled factor kinds',
      tags: ['users'],
      params: USER_PARAMS,
      responses: { 200: { description: 'User' } },
      handler: async ({ params: p }) => {
        const user = await getUser(iam.ctx, p.userId);
        return {
          ...user,
          grants: await activeGrantsOf(iam.ctx, user.id),
          factors: await factorsOf(iam.ctx, user.id),
        };
      },
    });
    for (const status of ['disable', 'enable'] as const) {
      apiRoute<UserParams>(app, iam, {
        method: 'POST',
        url: `/api/v1/users/:userId/${status}`,
        action: status === 'disable' ? 'user.disable' : 'user.enable',
        summary:
          status === 'disable'
            ? 'Disable a user: sessions end, tokens and grants stop working on the next request'
            : 'Enable a disabled user',
        tags: ['users'],
        params: USER_PARAMS,
        responses: { 200: { description: 'User', schema: USER } },
        handler: ({ params: p, actor, correlationId }) =>
          setUserStatus(
            iam.ctx,
            p.userId,
            status === 'disable' ? 'disabled' : 'active',
            actor,
            correlationId,
          ),
      });
    }
    apiRoute<UserParams>(app, iam, {
      method: 'POST',
      url: '/api/v1/users/:userId/sessions/revoke',
      action: 'user.sessions.revoke',
      summary: 'End every session of a user',
      tags: ['users'],
      params: USER_PARAMS,
      responses: { 200: { description: 'Count of ended sessions' } },
      handler: async ({ params: p, actor, correlationId }) => {
        await getUser(iam.ctx, p.userId);
        const sessions = await revokeUserSessions(iam.ctx, p.userId);
        await recordIam(iam.ctx, {
          action: 'iam.session.revoke',
          actor,
          resource: { kind: 'user', id: p.userId },
          details: { sessions },
          correlationId,
        });
        return { sessions };
      },
    });
    apiRoute<UserParams>(app, iam, {
      method: 'POST',
      url: '/api/v1/users/:userId/mfa/reset',
      action: 'user.mfa.reset',
      summary: 'Remove every second factor of a user (and end its sessions)',
      tags: ['users'],
      params: USER_PARAMS,
      responses: { 204: { description: 'Reset' } },
      handler: async ({ params: p, actor, correlationId, reply }) => {
        await getUser(iam.ctx, p.userId);
        await resetFactors(iam.ctx, p.userId, actor, correlationId);
        return reply.code(204).send();
      },
    });
    apiRoute(app, iam, {
      method: 'GET',
      url: '/api/v1/oidc-providers',
      action: 'oidc.provider.list',
      summary: 'Single sign-on providers (client secrets are never shown)',
      tags: ['users'],
      responses: { 200: { description: 'Providers' } },
      handler: () => listOidcProviders(iam.ctx),
    });
    apiRoute<
      { provider: string },
      Record<string, never>,
      {
        displayName?: string;
        issuer: string;
        clientId: string;
        clientSecret?: string;
        scopes?: string;
        groupsClaim?: string;
        groupRoles?: { group: string; workspace: string; role: string; connector?: string }[];
      }
    >(app, iam, {
      method: 'PUT',
      url: '/api/v1/oidc-providers/:provider',
      action: 'oidc.provider.set',
      summary:
        'Create or replace a single sign-on provider and its group → role mappings (the client secret is sealed, write-only)',
      tags: ['users'],
      params: params({ provider: { type: 'string', pattern: '^[a-z][a-z0-9-]{0,62}$' } }, false),
      body: body(
        {
          displayName: TEXT(100),
          issuer: TEXT(2048),
          clientId: TEXT(200),
          clientSecret: TEXT(1024),
          scopes: TEXT(1024),
          groupsClaim: TEXT(200),
          groupRoles: {
            type: 'array',
            maxItems: 1000,
            description:
              'Roles the members of an identity-provider group hold; each sign-in adds and revokes grants to match',
            items: body(
              {
                group: TEXT(256),
                workspace: { type: 'string', pattern: '^[a-z][a-z0-9-]{0,62}$' },
                role: ROLE,
                connector: CONNECTOR,
              },
              ['group', 'workspace', 'role'],
            ),
          },
        },
        ['issuer', 'clientId'],
      ),
      responses: { 200: { description: 'Provider' } },
      handler: ({ params: p, body: input, actor, correlationId }) =>
        setOidcProvider(iam.ctx, { id: p.provider, ...input, actor, correlationId }),
    });
    return Promise.resolve();
  };
}
