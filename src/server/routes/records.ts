// Records over the API: one record masked (restricted values withheld, others masked per their
// classification), or revealed for a declared purpose. Revealing is its own Cedar action that reads
// classified data, so the policy `classified-needs-purpose` refuses it without a purpose, before
// anything is decrypted; every read and reveal is in the ledger with the purpose and request id.
import type { FastifyPluginAsync } from 'fastify';
import type { Host } from '../../host/index.ts';
import type { Actor } from '../../ledger/index.ts';
import { RecordStore } from '../../privacy/index.ts';
import { apiRoute, type RawInput } from '../plugins/api-route.ts';
import { body, params } from '../plugins/schemas.ts';
import { serverIamOf } from '../plugins/authn.ts';

const TYPE = { type: 'string', pattern: '^[a-z][a-z0-9_.-]{0,63}$' };
const ID = { type: 'string', pattern: '^[A-Za-z0-9._:@-]{1,128}$' };
const RECORD_PARAMS = params({ type: TYPE, id: ID });
const PURPOSE = { type: 'string', minLength: 3, maxLength: 200, pattern: '^[^\\u0000-\\u001f\\u007f]*$' };
const VIEW = {
  type: 'object',
  properties: {
    workspaceId: { type: 'string' },
    type: { type: 'string' },
    id: { type: 'string' },
    subjectId: { type: ['string', 'null'] },
    createdAt: { type: 'string' },
    revealed: { type: 'boolean' },
    fields: { type: 'object', description: 'Field values: masked, or clear when revealed' },
  },
};

interface RecordParams {
  workspace: string;
  type: string;
  id: string;
}

/** The purpose a reveal declares, read from the raw body for the policy (validated afterwards). */
function revealAttributes(raw: RawInput): { classification: 'restricted'; purpose: string } {
  const b = raw.body;
  const purpose =
    typeof b === 'object' && b !== null && typeof (b as { purpose?: unknown }).purpose === 'string'
      ? (b as { purpose: string }).purpose.trim()
      : '';
  // The type's fields are not known before the record is read; a reveal is judged as restricted.
  return { classification: 'restricted', purpose };
}

export function recordRoutes(host: Host): FastifyPluginAsync {
  return (app) => {
    const iam = serverIamOf(host);
    /** The store as one authorized caller: the route's policy decision is the permission. */
    const recordsFor = (caller: Actor): RecordStore =>
      new RecordStore({
        store: host.store,
        keyring: host.keyring,
        audit: host.audit,
        authorize: (actor) => actor.kind === caller.kind && actor.id === caller.id,
      });
    apiRoute<RecordParams>(app, iam, {
      method: 'GET',
      url: '/api/v1/workspaces/:workspace/records/:type/:id',
      action: 'record.read',
      summary: 'One record, masked per field classification (restricted values withheld)',
      tags: ['records'],
      params: RECORD_PARAMS,
      responses: { 200: { description: 'The masked record', schema: VIEW } },
      handler: ({ params: p, actor, correlationId }) =>
        recordsFor(actor).get(p.workspace, p.type, p.id, { reveal: false, actor, correlationId }),
    });
    apiRoute<RecordParams, Record<string, never>, { purpose: string }>(app, iam, {
      method: 'POST',
      url: '/api/v1/workspaces/:workspace/records/:type/:id/reveal',
      action: 'record.reveal',
      summary: 'One record decrypted, for a declared purpose (recorded in the ledger)',
      tags: ['records'],
      params: RECORD_PARAMS,
      body: body({ purpose: PURPOSE }, ['purpose']),
      attributes: revealAttributes,
      responses: { 200: { description: 'The record in clear', schema: VIEW } },
      handler: ({ params: p, body: b, actor, correlationId }) =>
        recordsFor(actor).get(p.workspace, p.type, p.id, {
          reveal: true,
          actor,
          purpose: b.purpose,
          correlationId,
        }),
    });
    return Promise.resolve();
  };
}
