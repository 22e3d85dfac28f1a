// `POST /hooks/<workspace>/<workflow>`: the webhook trigger. Authenticated by its HMAC signature,
// not a bearer token. The raw body is read here (bounded) so the signature covers exact bytes.
import type { IncomingMessage } from 'node:http';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { DEFAULT_WEBHOOK_LIMITS, receiveWebhook, SIGNATURE_HEADER } from '../../engine/index.ts';
import { CustosError } from '../../errors/index.ts';
import type { Host } from '../../host/index.ts';
import { pathId, runtimeOf } from './runs.ts';

function tooLarge(): CustosError {
  return new CustosError('RUNTIME_WEBHOOK_TOO_LARGE', 'Webhook payload is too large', {
    details: { field: 'body', rule: `at most ${DEFAULT_WEBHOOK_LIMITS.maxBytes} bytes` },
  });
}

function header(value: string | string[] | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

export function hookRoutes(host: Host): FastifyPluginAsync {
  return (app) => {
    const limit = DEFAULT_WEBHOOK_LIMITS.maxBytes;
    app.removeAllContentTypeParsers();
    app.addContentTypeParser(
      '*',
      async (request: FastifyRequest, payload: IncomingMessage): Promise<Buffer> => {
        const declared = Number(request.headers['content-length']);
        if (Number.isFinite(declared) && declared > limit) throw tooLarge();
        const chunks: Buffer[] = [];
        let size = 0;
        for await (const chunk of payload) {
          const buf = chunk as Buffer;
          size += buf.length;
          // Keep draining so the connection stays usable, but stop holding bytes past the limit.
          if (size <= limit) chunks.push(buf);
        }
        if (size > limit) throw tooLarge();
        return Buffer.concat(chunks);
      },
    );
    app.post<{ Params: { workspace: string; workflow: string } }>(
      '/hooks/:workspace/:workflow',
      async (request, reply) => {
        const workspaceId = pathId(request.params.workspace, 'workspace');
        const workflow = pathId(request.params.workflow, 'workflow');
        const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
        const installed = runtimeOf(host);
        const idempotencyKey = header(request.headers['idempotency-key']);
        const traceparent = header(request.headers.traceparent);
        const result = await receiveWebhook(
          { store: host.store, start: installed.runtime.start, keys: installed.webhookKeys },
          {
            workspaceId,
            workflow,
            body,
            signature: header(request.headers[SIGNATURE_HEADER]),
            ...(idempotencyKey === undefined ? {} : { idempotencyKey }),
            ...(traceparent === undefined ? {} : { traceparent }),
          },
        );
        return reply.code(result.created ? 202 : 200).send({
          runId: result.runId,
          status: result.status,
          created: result.created,
          correlationId: result.correlationId,
        });
      },
    );
    return Promise.resolve();
  };
}
