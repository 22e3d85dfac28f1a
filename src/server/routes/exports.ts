// Custody exports over the API: list export definitions, create an export (a signed, archived
// bundle), read archive metadata and download a bundle (audited as `custody.downloaded`). The
// caller's IAM roles in the workspace become its custody roles (admin → admin, auditor → auditor);
// API callers never receive clear values (fields clear only under a purpose grant leave masked or
// tokenized). Bundles pass through a private temporary directory that is removed afterwards.
import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyPluginAsync } from 'fastify';
import {
  createExport,
  ExportJobs,
  startExport,
  type ExportRun,
  defaultCustodySettings,
  openCustody,
  parseKeyList,
  recordDelivery,
  recordStoreSource,
  verifyArchived,
  type Caller,
  type Custody,
  type CustodyRole,
} from '../../custody/index.ts';
import type { Host } from '../../host/index.ts';
import type { Role } from '../../iam/index.ts';
import type { Actor } from '../../ledger/index.ts';
import { RecordStore, Tokenizer } from '../../privacy/index.ts';
import { apiRoute } from '../plugins/api-route.ts';
import { serverIamOf } from '../plugins/authn.ts';
import { body, list, params, WORKSPACE_PARAM } from '../plugins/schemas.ts';

const NAME = { type: 'string', pattern: '^[a-z][a-z0-9-]{0,62}$' };
const SHA256 = { type: 'string', pattern: '^[0-9a-f]{64}$' };
const VERIFY_REPORT = {
  type: 'object',
  properties: {
    ok: { type: 'boolean' },
    exportId: { type: 'string' },
    encrypted: { type: 'boolean' },
    bytes: { type: 'integer' },
    checks: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          id: { type: 'string' },
          label: { type: 'string' },
          status: { enum: ['pass', 'fail', 'skip'] },
          detail: { type: 'string' },
          code: { type: 'string' },
        },
      },
    },
  },
};
const RECIPIENT = { type: 'string', pattern: '^age1[02-9ac-hj-np-z]{58}$' };

const DEFINITION = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    version: { type: 'integer' },
    digest: { type: 'string' },
    purpose: { type: 'string' },
    outputSchemaVersion: { type: 'integer' },
    triggeredBy: { type: 'array', items: { type: 'string' } },
    retentionDays: { type: 'integer' },
    sourceOrganization: { type: 'string' },
    records: {
      type: 'array',
      items: {
        type: 'object',
        properties: { type: { type: 'string' }, fields: { type: 'object', additionalProperties: true } },
      },
    },
    createdAt: { type: 'string' },
    createdBy: { type: 'string' },
  },
};

const ENTRY = {
  type: 'object',
  properties: {
    sha256: { type: 'string' },
    exportId: { type: ['string', 'null'] },
    size: { type: 'integer' },
    backend: { type: 'string' },
    createdAt: { type: 'string' },
    createdBy: { type: 'string' },
    retainUntil: { type: 'string' },
    legalHold: { type: 'boolean' },
    holdReason: { type: ['string', 'null'] },
    deletionRequestedBy: { type: ['string', 'null'] },
    deletedAt: { type: ['string', 'null'] },
    lastScrubAt: { type: ['string', 'null'] },
    lastScrubOk: { type: ['boolean', 'null'] },
  },
};

const JOB = {
  type: 'object',
  properties: {
    exportId: { type: 'string' },
    workspace: { type: 'string' },
    definition: {
      type: 'object',
      properties: { name: { type: 'string' }, version: { type: 'integer' } },
    },
    requestedBy: { type: 'object', properties: { kind: { type: 'string' }, id: { type: 'string' } } },
    state: { enum: ['running', 'succeeded', 'failed', 'interrupted'] },
    records: { type: 'integer' },
    error: { type: ['string', 'null'] },
    bundle: {
      type: ['object', 'null'],
      properties: { sha256: { type: 'string' }, size: { type: 'integer' } },
    },
    createdAt: { type: 'string' },
    finishedAt: { type: ['string', 'null'] },
  },
};

/** True when a `Prefer` header (RFC 7240) asks for an asynchronous answer. */
function respondAsync(prefer: string | string[] | undefined): boolean {
  const values = Array.isArray(prefer) ? prefer : prefer === undefined ? [] : [prefer];
  return values.some((v) =>
    v.split(',').some((p) => p.split(';')[0]?.trim().toLowerCase() === 'respond-async'),
  );
}

const CREATED = {
  type: 'object',
  properties: {
    exportId: { type: 'string' },
    sha256: { type: 'string' },
    size: { type: 'integer' },
    encrypted: { type: 'boolean' },
    definition: {
      type: 'object',
      properties: { name: { type: 'string' }, version: { type: 'integer' }, digest: { type: 'string' } },
    },
    retainUntil: { type: 'string' },
  },
};

interface CreateBody {
  readonly definition: string;
  readonly version?: number;
  readonly purpose?: string;
  readonly recipients?: readonly string[];
}

/** The custody roles an API caller holds: its IAM admin and auditor roles in the workspace. */
function callerOf(actor: Actor, roles: readonly Role[]): Caller {
  const custody: CustodyRole[] = [];
  if (roles.includes('admin')) custody.push('admin');
  if (roles.includes('auditor')) custody.push('auditor');
  return { actor, roles: custody, canReadClear: false };
}

/** A private temporary directory for one bundle, removed by `done`. */
async function scratch(): Promise<{ file: string; done: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'custos-api-export-'));
  return { file: join(dir, 'bundle.tar'), done: () => rm(dir, { recursive: true, force: true }) };
}

export function exportRoutes(host: Host): FastifyPluginAsync {
  return (app) => {
    const iam = serverIamOf(host);
    let opened: Custody | undefined;
    const custody = (): Custody => (opened ??= openCustody(host, defaultCustodySettings(host)));
    let jobs: ExportJobs | undefined;
    const exportJobs = (): ExportJobs => (jobs ??= new ExportJobs({ store: host.store }));
    // When the server closes, background exports stop and their jobs end as interrupted.
    app.addHook('onClose', async () => {
      await jobs?.close();
    });

    apiRoute<{ workspace: string }>(app, iam, {
      method: 'GET',
      url: '/api/v1/workspaces/:workspace/exports/definitions',
      action: 'export.definition.list',
      summary: 'Export definitions of the workspace (newest version of each)',
      tags: ['exports'],
      params: WORKSPACE_PARAM,
      responses: { 200: { description: 'Definitions', schema: list(DEFINITION) } },
      handler: ({ params: p }) => custody().definitions.list(p.workspace),
    });

    apiRoute<{ workspace: string }, Record<string, never>, CreateBody>(app, iam, {
      method: 'POST',
      url: '/api/v1/workspaces/:workspace/exports',
      action: 'export.create',
      summary: 'Produce a signed, ledger-anchored, archived export bundle from a definition',
      tags: ['exports'],
      params: WORKSPACE_PARAM,
      body: body(
        {
          definition: NAME,
          version: { type: 'integer', minimum: 1, maximum: 1_000_000_000 },
          purpose: { type: 'string', minLength: 1, maxLength: 512 },
          recipients: { type: 'array', maxItems: 32, uniqueItems: true, items: RECIPIENT },
        },
        ['definition'],
      ),
      responses: {
        201: { description: 'The archived bundle', schema: CREATED },
        202: {
          description:
            'With `Prefer: respond-async`: the export was checked and runs in the background; `Location` is its job',
          schema: JOB,
        },
      },
      handler: async ({ params: p, body: input, actor, identity, request, reply, correlationId }) => {
        const caller = callerOf(actor, identity.roles);
        const def = await custody().definitions.get(p.workspace, input.definition, input.version);
        const purpose = input.purpose ?? def.purpose;
        // Decryption inside the record store is allowed for this caller's export only: custody
        // decides which fields leave masked or tokenized.
        const allowExport = (who: Actor, permission: string): boolean =>
          permission === 'privacy.reveal' && who.kind === actor.kind && who.id === actor.id;
        const records = recordStoreSource({
          store: host.store,
          records: new RecordStore({
            store: host.store,
            keyring: host.keyring,
            audit: host.audit,
            authorize: allowExport,
          }),
          tokenizer: new Tokenizer({ store: host.store, keyring: host.keyring, audit: host.audit }),
          actor,
          purpose,
          correlationId,
        });
        const c = custody();
        const ctx = {
          workspaceId: p.workspace,
          store: host.store,
          ledgers: host.ledgers,
          audit: host.audit,
          keys: c.keys,
          definitions: c.definitions,
          archive: c.archive,
          records,
          correlationId,
        };
        const options = {
          definition: def.name,
          version: def.version,
          purpose,
          ...(input.recipients === undefined ? {} : { recipients: input.recipients }),
          caller,
        };
        const out = await scratch();
        if (respondAsync(request.headers.prefer)) {
          const abort = new AbortController();
          let report: (records: number) => void = () => undefined;
          let started;
          let slot;
          try {
            slot = exportJobs().reserve();
            // Checked now (definition, roles, purpose, recipients): bad requests still get a 4xx.
            started = await startExport(ctx, {
              ...options,
              out: out.file,
              signal: abort.signal,
              onProgress: (n) => {
                report(n);
              },
            });
          } catch (err) {
            slot?.release();
            await out.done();
            throw err;
          }
          const { exportId, definition, result } = started;
          // Settled by the job below; handled here so an early failure is never an unhandled rejection.
          result.catch(() => undefined);
          const run: ExportRun = async (signal, onProgress) => {
            report = onProgress;
            signal.addEventListener(
              'abort',
              () => {
                abort.abort();
              },
              { once: true },
            );
            try {
              const r = await result;
              return { bundleSha256: r.bundleSha256, size: r.size };
            } finally {
              await out.done();
            }
          };
          let job;
          try {
            job = await slot.start({ exportId, workspace: p.workspace, definition, requestedBy: actor }, run);
          } catch (err) {
            abort.abort();
            await result.catch(() => undefined);
            await out.done();
            throw err;
          }
          reply.code(202);
          reply.header('location', `/api/v1/workspaces/${p.workspace}/exports/jobs/${job.exportId}`);
          reply.header('preference-applied', 'respond-async');
          return job;
        }
        try {
          const result = await createExport(ctx, { ...options, out: out.file });
          reply.code(201);
          return {
            exportId: result.exportId,
            sha256: result.bundleSha256,
            size: result.size,
            encrypted: result.encrypted,
            definition: result.definition,
            retainUntil: result.archive.retainUntil,
          };
        } finally {
          await out.done();
        }
      },
    });

    apiRoute<{ workspace: string; exportId: string }>(app, iam, {
      method: 'GET',
      url: '/api/v1/workspaces/:workspace/exports/jobs/:exportId',
      action: 'export.job.read',
      summary: 'An export running in the background: state, records read, and its bundle once archived',
      tags: ['exports'],
      params: params({ exportId: { type: 'string', pattern: '^exp-[0-9a-z-]{1,80}$' } }),
      responses: { 200: { description: 'The job', schema: JOB } },
      handler: ({ params: p }) => exportJobs().get(p.workspace, p.exportId),
    });

    apiRoute<{ workspace: string }>(app, iam, {
      method: 'GET',
      url: '/api/v1/workspaces/:workspace/exports/jobs',
      action: 'export.job.read',
      summary: 'Export jobs of the workspace, newest first (at most 100)',
      tags: ['exports'],
      params: WORKSPACE_PARAM,
      responses: { 200: { description: 'Jobs', schema: list(JOB) } },
      handler: ({ params: p }) => exportJobs().list(p.workspace),
    });

    apiRoute<{ workspace: string }>(app, iam, {
      method: 'GET',
      url: '/api/v1/workspaces/:workspace/exports/archive',
      action: 'export.archive.read',
      summary: 'Archived export bundles (metadata)',
      tags: ['exports'],
      params: WORKSPACE_PARAM,
      responses: { 200: { description: 'Archive entries', schema: list(ENTRY) } },
      handler: ({ params: p, actor, identity }) =>
        custody().archive.list(p.workspace, callerOf(actor, identity.roles)),
    });

    apiRoute<{ workspace: string; sha256: string }>(app, iam, {
      method: 'GET',
      url: '/api/v1/workspaces/:workspace/exports/archive/:sha256',
      action: 'export.archive.read',
      summary: 'One archived bundle (metadata)',
      tags: ['exports'],
      params: params({ sha256: SHA256 }),
      responses: { 200: { description: 'Archive entry', schema: ENTRY } },
      handler: ({ params: p }) => custody().archive.entry(p.workspace, p.sha256),
    });

    apiRoute<{ workspace: string; sha256: string }>(app, iam, {
      method: 'GET',
      url: '/api/v1/workspaces/:workspace/exports/archive/:sha256/bundle',
      action: 'export.download',
      summary: 'Download an archived bundle (digest-checked; audited as custody.downloaded)',
      tags: ['exports'],
      params: params({ sha256: SHA256 }),
      responses: { 200: { description: 'The bundle (application/octet-stream)' } },
      handler: async ({ params: p, actor, identity, reply }) => {
        const out = await scratch();
        try {
          const entry = await custody().archive.get(
            p.workspace,
            p.sha256,
            out.file,
            callerOf(actor, identity.roles),
          );
          const stream = createReadStream(out.file);
          stream.on('close', () => void out.done());
          return await reply
            .header('cache-control', 'no-store')
            .header('content-disposition', `attachment; filename="${entry.exportId ?? entry.sha256}.tar"`)
            .type('application/octet-stream')
            .send(stream);
        } catch (err) {
          await out.done();
          throw err;
        }
      },
    });
    apiRoute<
      { workspace: string; sha256: string },
      Record<string, never>,
      { recipient: string; channel?: string }
    >(app, iam, {
      method: 'POST',
      url: '/api/v1/workspaces/:workspace/exports/archive/:sha256/deliveries',
      action: 'export.deliver',
      summary: 'Record that an archived bundle was handed to its recipient (custody.delivered)',
      tags: ['exports'],
      params: params({ sha256: SHA256 }),
      body: body(
        {
          recipient: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._:-]{0,199}$' },
          channel: { type: 'string', pattern: '^[a-z][a-z0-9._-]{0,63}$' },
        },
        ['recipient'],
      ),
      responses: { 201: { description: 'Recorded', schema: { type: 'object' } } },
      handler: async ({ params: p, body: b, actor, identity, correlationId, reply }) => {
        await recordDelivery(custody().archive, p.workspace, p.sha256, callerOf(actor, identity.roles), {
          recipient: b.recipient,
          ...(b.channel === undefined ? {} : { channel: b.channel }),
          correlationId,
        });
        return reply.code(201).send({ sha256: p.sha256, recipient: b.recipient, channel: b.channel ?? null });
      },
    });

    apiRoute<{ workspace: string; sha256: string }>(app, iam, {
      method: 'POST',
      url: '/api/v1/workspaces/:workspace/exports/archive/:sha256/verify',
      action: 'export.verify',
      summary:
        'Verify an archived bundle against the workspace export keys and ledger (custody.verified); encrypted bundles report the decrypt check as failed',
      tags: ['exports'],
      params: params({ sha256: SHA256 }),
      responses: { 200: { description: 'The verification report', schema: VERIFY_REPORT } },
      handler: async ({ params: p, actor, identity, correlationId }) => {
        const c = custody();
        const keys = parseKeyList(await c.keys.keyList(p.workspace), 'key list');
        return verifyArchived(c.archive, p.workspace, p.sha256, callerOf(actor, identity.roles), {
          trustedKeys: keys.trusted,
          revokedKeys: keys.revoked,
          correlationId,
        });
      },
    });
    return Promise.resolve();
  };
}
