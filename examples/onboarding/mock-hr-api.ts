// A mock HR API for the onboarding example: `POST /hr/employees` (requires the X-Api-Key it was
// started with) answers `{ id }`; `POST /notify/messages` accepts a notification. It keeps what it
// received so the demo and tests can check that only masked values were notified.
// Run alone: `HR_API_KEY=… node examples/onboarding/mock-hr-api.ts [port]`.
import { randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface MockHrApi {
  readonly url: string;
  readonly port: number;
  /** Bodies received, by path. */
  readonly received: { readonly path: string; readonly body: unknown; readonly idempotencyKey?: string }[];
  close(): Promise<void>;
}

function sameKey(given: string | string[] | undefined, expected: string): boolean {
  if (typeof given !== 'string') return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > 64 * 1024) throw new Error('too large');
    chunks.push(chunk as Buffer);
  }
  return chunks.length === 0 ? null : (JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown);
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

/** Start the mock on 127.0.0.1:`port` (0: any free port). */
export async function startMockHrApi(options: { apiKey: string; port?: number }): Promise<MockHrApi> {
  const received: MockHrApi['received'] = [];
  const byKey = new Map<string, string>();
  const server = createServer((req, res) => {
    void (async () => {
      try {
        const body = await readJson(req);
        const key = req.headers['idempotency-key'];
        const idempotencyKey = typeof key === 'string' ? key : undefined;
        received.push({
          path: req.url ?? '',
          body,
          ...(idempotencyKey === undefined ? {} : { idempotencyKey }),
        });
        if (req.method === 'POST' && req.url === '/hr/employees') {
          if (!sameKey(req.headers['x-api-key'], options.apiKey)) {
            send(res, 401, { error: 'invalid api key' });
            return;
          }
          // Idempotent: a retried request with the same key gets the same employee id.
          const existing = idempotencyKey === undefined ? undefined : byKey.get(idempotencyKey);
          const id = existing ?? `emp_${randomUUID().slice(0, 8)}`;
          if (idempotencyKey !== undefined) byKey.set(idempotencyKey, id);
          send(res, existing === undefined ? 201 : 200, { id });
          return;
        }
        if (req.method === 'POST' && req.url === '/notify/messages') {
          send(res, 202, { queued: true });
          return;
        }
        send(res, 404, { error: 'not found' });
      } catch {
        send(res, 400, { error: 'bad request' });
      }
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
}

const isMain = process.argv[1] !== undefined && import.meta.filename === process.argv[1];
if (isMain) {
  const apiKey = process.env.HR_API_KEY;
  if (apiKey === undefined || apiKey.length < 16) {
    process.stderr.write('set HR_API_KEY (16+ characters)\n');
    process.exit(2);
  }
  const api = await startMockHrApi({ apiKey, port: Number(process.argv[2] ?? 4780) });
  process.stdout.write(`mock HR API listening on ${api.url}\n`);
}
