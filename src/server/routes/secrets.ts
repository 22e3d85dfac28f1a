// Secrets over the API, metadata only: list and show versions, write a value (set or rotate;
// write-only, never returned), delete. Scoped per connector, which the access policy sees.
import type { FastifyPluginAsync } from 'fastify';
import { isCustosError } from '../../errors/index.ts';
import type { Host } from '../../host/index.ts';
import { SecretsVault, type SecretState } from '../../secrets/index.ts';
import { apiRoute, type RawInput } from '../plugins/api-route.ts';
import { serverIamOf } from '../plugins/authn.ts';
import { body, list, params, WORKSPACE_PARAM } from '../plugins/schemas.ts';

const NAME = { type: 'string', pattern: '^[A-Z][A-Z0-9_]{0,63}$' };
const ID = { type: 'string', pattern: '^[a-z][a-z0-9-]{0,62}$' };
const ENV = { type: 'string', pattern: '^([a-z][a-z0-9-]{0,62}|\\*)$' };
const METADATA = {
  type: 'object',
  properties: {
    workspace: { type: 'string' },
    name: { type: 'string' },
    connector: { type: 'string' },
    env: { type: 'string' },
    version: { type: 'integer' },
    state: { enum: ['active', 'retired', 'deleted'] },
    createdBy: { type: 'string' },
    createdAt: { type: 'string' },
    rotateEveryDays: { type: ['integer', 'null'] },
    nextRotationAt: { type: ['string', 'null'] },
  },
};

interface Scope {
  connector?: string;
  env?: string;
}

/** The connector and environment a request names (body or query), for the access policy. */
function scopeAttributes(raw: RawInput): { connector?: string; environment?: string } {
  const source =
    typeof raw.body === 'object' && raw.body !== null ? (raw.body as Record<string, unknown>) : raw.query;
  const connector =
    typeof source.connector === 'string' && /^[a-z][a-z0-9-]{0,62}$/.test(source.connector)
      ? source.connector
      : undefined;
  const env =
    typeof source.env === 'string' && /^[a-z][a-z0-9-]{0,62}$/.test(source.env) ? source.env : undefined;
  return {
    ...(connector === undefined ? {} : { connector }),
    ...(env === undefined ? {} : { environment: env }),
  };
}

const SCOPE_QUERY = (required: boolean) => ({
  type: 'object',
  additionalProperties: false,
  required: required ? ['connector'] : [],
  properties: {
    connector: ID,
    env: ENV,
    ...(required ? {} : { state: { enum: ['active', 'retired', 'deleted', 'all'] } }),
  },
});

export function secretRoutes(host: Host): FastifyPluginAsync {
  return (app) => {
    const iam = serverIamOf(host);
    const vault = new SecretsVault({ store: host.store, keyring: host.keyring, audit: host.audit });
    apiRoute<{ workspace: string }, Scope & { state?: SecretState | 'all' }>(app, iam, {
      method: 'GET',
      url: '/api/v1/workspaces/:workspace/secrets',
      action: 'secret.list',
      summary: 'Secret metadata (never values), filtered by connector, environment and state',
      tags: ['secrets'],
      params: WORKSPACE_PARAM,
      query: SCOPE_QUERY(false),
      attributes: scopeAttributes,
      responses: { 200: { description: 'Secrets', schema: list(METADATA) } },
      handler: ({ params: p, query }) =>
        vault.list(p.workspace, {
          ...(query.connector === undefined ? {} : { connector: query.connector }),
          ...(query.env === undefined ? {} : { env: query.env }),
          ...(query.state === undefined
            ? {}
            : { states: query.state === 'all' ? ['active', 'retired', 'deleted'] : [query.state] }),
        }),
    });
    apiRoute<{ workspace: string; name: string }, Scope>(app, iam, {
      method: 'GET',
      url: '/api/v1/workspaces/:workspace/secrets/:name/versions',
      action: 'secret.list',
      summary: 'Every version of one secret (metadata)',
      tags: ['secrets'],
      params: params({ name: NAME }),
      query: SCOPE_QUERY(true),
      attributes: scopeAttributes,
      responses: { 200: { description: 'Versions', schema: list(METADATA) } },
      handler: ({ params: p, query }) =>
        vault.versions({
          workspace: p.workspace,
          name: p.name,
          connector: query.connector ?? '',
          ...(query.env === undefined ? {} : { env: query.env }),
        }),
    });
    apiRoute<
      { workspace: string; name: string },
      Record<string, never>,
      Scope & { value: string; rotateEveryDays?: number | null }
    >(app, iam, {
      method: 'PUT',
      url: '/api/v1/workspaces/:workspace/secrets/:name',
      action: 'secret.write',
      summary:
        'Write a secret value: a new secret or a new version (write-only; the value is never returned)',
      tags: ['secrets'],
      params: params({ name: NAME }),
      body: body(
        {
          connector: ID,
          env: ENV,
          value: { type: 'string', minLength: 6, maxLength: 65536 },
          rotateEveryDays: { type: ['integer', 'null'], minimum: 1, maximum: 3650 },
        },
        ['connector', 'value'],
      ),
      attributes: scopeAttributes,
      responses: { 200: { description: 'Metadata of the new version', schema: METADATA } },
      handler: async ({ params: p, body: input, actor, correlationId }) => {
        const write = {
          workspace: p.workspace,
          name: p.name,
          connector: input.connector ?? '',
          ...(input.env === undefined ? {} : { env: input.env }),
          value: input.value,
          ...(input.rotateEveryDays === undefined ? {} : { rotateEveryDays: input.rotateEveryDays }),
          actor,
          correlationId,
        };
        try {
          return await vault.set(write);
        } catch (err) {
          if (isCustosError(err, 'SECRETS_EXISTS')) return vault.rotate(write);
          throw err;
        }
      },
    });
    apiRoute<{ workspace: string; name: string }, Scope>(app, iam, {
      method: 'DELETE',
      url: '/api/v1/workspaces/:workspace/secrets/:name',
      action: 'secret.write',
      summary: 'Delete a secret: every version is wiped; metadata stays',
      tags: ['secrets'],
      params: params({ name: NAME }),
      query: SCOPE_QUERY(true),
      attributes: scopeAttributes,
      responses: { 200: { description: 'Versions wiped' } },
      handler: ({ params: p, query, actor, correlationId }) =>
        vault.delete({
          workspace: p.workspace,
          name: p.name,
          connector: query.connector ?? '',
          ...(query.env === undefined ? {} : { env: query.env }),
          actor,
          correlationId,
        }),
    });
    return Promise.resolve();
  };
}
