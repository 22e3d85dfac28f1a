// Read-only ledger endpoints under /ledger/<L>/, byte-exact to C2SP tlog-tiles: the newest signed
// checkpoint, hash tiles and entry bundles. They need an auditor or admin token unless the ledger
// is configured public; full tiles are immutable and cached long, partial ones and the checkpoint not.
import { gzipSync } from 'node:zlib';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { CustosError } from '../../errors/index.ts';
import type { Host } from '../../host/index.ts';
import { parseTilePath, type Ledger } from '../../ledger/index.ts';
import { authenticate } from '../app.ts';
import { apiRoute, type RouteMeta } from '../plugins/api-route.ts';
import { serverIamOf } from '../plugins/authn.ts';
import { WORKSPACE_PARAM } from '../plugins/schemas.ts';
import { CUSTOS_VERSION } from '../../config/index.ts';
import { ledgerLines, type LedgerLineFormat } from '../../observe/index.ts';

/** Events per page of `GET …/ledger/events`. */
const MAX_EVENTS_PAGE = 1000;

const IMMUTABLE = 'max-age=31536000, immutable';

interface LedgerParams {
  ledger: string;
}

async function ledgerFor(host: Host, request: FastifyRequest<{ Params: LedgerParams }>): Promise<Ledger> {
  const name = request.params.ledger;
  if (!host.ledgers.isPublic(name)) await authenticate(host, request, 'ledger.read', name);
  return host.ledgers.find(name);
}

function cacheScope(host: Host, name: string): string {
  return host.ledgers.isPublic(name) ? 'public' : 'private';
}

export function ledgerRoutes(host: Host): FastifyPluginAsync {
  return (app) => {
    const meta = (url: string, summary: string): RouteMeta => ({
      method: 'GET',
      url,
      action: 'ledger.read',
      summary,
      tags: ['ledger'],
      params: {
        type: 'object',
        properties: { ledger: { type: 'string', pattern: '^(system|[a-z][a-z0-9-]{0,62})$' } },
      },
      responses: {
        200: { description: 'C2SP tlog-tiles bytes (text/plain checkpoint, application/octet-stream tiles)' },
      },
    });
    const checkpointUrl = '/ledger/:ledger/checkpoint';
    const tileUrl = '/ledger/:ledger/tile/*';
    app.get<{ Params: LedgerParams }>(
      checkpointUrl,
      { config: { custos: meta(checkpointUrl, 'The newest signed checkpoint (C2SP signed note)') } },
      async (request, reply) => {
        const ledger = await ledgerFor(host, request);
        const checkpoint = await ledger.latestCheckpoint();
        if (checkpoint === undefined) {
          throw new CustosError('LEDGER_CHECKPOINT_MISSING', 'The ledger has no checkpoint yet', {
            details: { field: 'ledger', rule: 'at least one signed checkpoint' },
          });
        }
        return reply
          .header('cache-control', 'no-store')
          .type('text/plain; charset=utf-8')
          .send(checkpoint.note);
      },
    );

    app.get<{ Params: LedgerParams & { '*': string } }>(
      tileUrl,
      { config: { custos: meta(tileUrl, 'A hash tile or entry bundle (C2SP tlog-tiles, height 8)') } },
      async (request, reply) => {
        const ledger = await ledgerFor(host, request);
        const ref = parseTilePath(`tile/${request.params['*']}`);
        const body = await ledger.tile(ref);
        const full = ref.width === undefined;
        reply.header('cache-control', full ? `${cacheScope(host, ledger.id)}, ${IMMUTABLE}` : 'no-store');
        reply.type('application/octet-stream');
        return sendMaybeGzipped(request, reply, body, ref.kind === 'entries');
      },
    );
    const iam = serverIamOf(host);
    apiRoute<{ workspace: string }, { from?: number; limit?: number; format?: LedgerLineFormat }>(app, iam, {
      method: 'GET',
      url: '/api/v1/workspaces/:workspace/ledger/events',
      action: 'ledger.read',
      summary:
        "The workspace ledger's events as NDJSON, for a SIEM: OCSF 1.3.0 (default) or as recorded; pages follow Link rel=next",
      tags: ['ledger'],
      params: WORKSPACE_PARAM,
      query: {
        type: 'object',
        additionalProperties: false,
        properties: {
          from: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER },
          limit: { type: 'integer', minimum: 1, maximum: MAX_EVENTS_PAGE },
          format: { enum: ['ocsf', 'ledger'] },
        },
      },
      responses: { 200: { description: 'application/x-ndjson, one event per line' } },
      handler: async ({ params: p, query: q, reply }) => {
        const ledger = await host.ledgers.find(p.workspace);
        const size = await ledger.size();
        const from = q.from ?? 0;
        const to = Math.min(size, from + (q.limit ?? MAX_EVENTS_PAGE));
        const format = q.format ?? 'ocsf';
        const lines: string[] = [];
        for await (const line of ledgerLines(ledger, from, from > size ? undefined : to, format, {
          version: CUSTOS_VERSION,
        }))
          lines.push(`${line}\n`);
        if (to < size)
          reply.header(
            'link',
            `</api/v1/workspaces/${p.workspace}/ledger/events?from=${to}&limit=${q.limit ?? MAX_EVENTS_PAGE}&format=${format}>; rel="next"`,
          );
        return reply.type('application/x-ndjson').send(lines.join(''));
      },
    });
    return Promise.resolve();
  };
}

/** Entry bundles SHOULD be compressed at the HTTP layer (tlog-tiles); hash tiles do not compress. */
function sendMaybeGzipped(
  request: FastifyRequest,
  reply: FastifyReply,
  body: Buffer,
  compress: boolean,
): FastifyReply {
  const accepts = request.headers['accept-encoding'];
  if (!compress || typeof accepts !== 'string' || !/\bgzip\b/.test(accepts)) return reply.send(body);
  return reply.header('content-encoding', 'gzip').header('vary', 'accept-encoding').send(gzipSync(body));
}
