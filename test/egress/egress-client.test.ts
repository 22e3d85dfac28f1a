// The egress client against a local HTTPS server (self-signed, trusted through `ca`) on 127.0.0.1:
// reachable only with the development allowance; every refusal happens before a connection opens.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  EgressClient,
  type ConnectorEgressPolicy,
  type EgressClientOptions,
  type HostResolver,
} from '../../src/egress/index.ts';
import { isCustosError } from '../../src/errors/index.ts';
import { MemoryAuditSink } from '../../src/ledger/index.ts';

const actor = { kind: 'service', id: 'engine' } as const;
const context = { workspace: 'acme', actor, correlationId: 'corr-1', runId: 'run-1' };
const SECRET = 'sk_live_5f2b9c1e7d3a4b6c';

let dir: string;
let ca: Buffer;
let https: Server;
let http: Server;
let httpsPort: number;
let httpPort: number;
let connections = 0;
let received: { url: string; method: string; headers: IncomingMessage['headers']; body: string }[] = [];

function route(req: IncomingMessage, res: ServerResponse, body: string): void {
  const url = new URL(req.url ?? '/', 'https://x');
  received.push({ url: url.pathname, method: req.method ?? '', headers: req.headers, body });
  switch (url.pathname) {
    case '/ok':
      res.end('hello');
      return;
    case '/echo':
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ method: req.method, headers: req.headers, body }));
      return;
    case '/redirect':
      res.statusCode = Number(url.searchParams.get('status') ?? '302');
      res.setHeader('location', url.searchParams.get('to') ?? '/ok');
      res.end('moved');
      return;
    case '/loop':
      res.statusCode = 302;
      res.setHeader('location', '/loop');
      res.end();
      return;
    case '/big':
      res.setHeader('content-length', String(4096));
      res.end(Buffer.alloc(4096, 0x61));
      return;
    case '/big-chunked':
      for (let i = 0; i < 8; i++) res.write(Buffer.alloc(1024, 0x62));
      res.end();
      return;
    case '/slow':
      setTimeout(() => res.end('late'), 5_000).unref();
      return;
    default:
      res.statusCode = 404;
      res.end();
  }
}

function handler(req: IncomingMessage, res: ServerResponse): void {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    route(req, res, Buffer.concat(chunks).toString('utf8'));
  });
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      resolve((server.address() as AddressInfo).port);
    });
  });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'custos-egress-'));
  const key = join(dir, 'key.pem');
  const cert = join(dir, 'cert.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=service.test',
      '-addext',
      'subjectAltName=DNS:service.test,DNS:other.test,IP:127.0.0.1',
      '-keyout',
      key,
      '-out',
      cert,
    ],
    { stdio: 'ignore' },
  );
  ca = readFileSync(cert);
  https = createHttpsServer({ key: readFileSync(key), cert: ca }, handler);
  https.on('connection', () => connections++);
  http = createHttpServer(handler);
  http.on('connection', () => connections++);
  httpsPort = await listen(https);
  httpPort = await listen(http);
});

afterAll(async () => {
  https.closeAllConnections();
  http.closeAllConnections();
  await new Promise((r) => https.close(r));
  await new Promise((r) => http.close(r));
  rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => {
  received = [];
  connections = 0;
});

const names: Record<string, string> = {
  'service.test': '127.0.0.1',
  'other.test': '127.0.0.1',
  'internal.test': '10.0.0.1',
  'meta.test': '169.254.169.254',
};
const resolver: HostResolver = (host) => {
  const address = names[host];
  return address === undefined
    ? Promise.reject(new Error('ENOTFOUND'))
    : Promise.resolve([{ address, family: 4 }]);
};

const svc: ConnectorEgressPolicy = {
  connector: 'svc',
  allowedHosts: [
    'service.test',
    'other.test',
    '127.0.0.1',
    'internal.test',
    'meta.test',
    '169.254.169.254',
    '[::ffff:169.254.169.254]',
  ],
  clearance: 'internal',
  maxResponseBytes: 2048,
  timeoutMs: 2_000,
};
const policies =
  (overrides: Partial<ConnectorEgressPolicy> = {}) =>
  (c: string) =>
    c === 'svc' ? { ...svc, ...overrides } : undefined;

function client(options: Partial<EgressClientOptions> = {}, audit = new MemoryAuditSink()) {
  return {
    audit,
    client: new EgressClient({
      policies: policies(),
      audit,
      resolver,
      ca,
      dev: { hosts: ['service.test', 'other.test', '127.0.0.1'] },
      ...options,
    }),
  };
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    return isCustosError(err) ? err.code : `untyped: ${String(err)}`;
  }
}

const at = (path: string, host = 'service.test') => `https://${host}:${httpsPort}${path}`;

describe('EgressClient: allowed calls (development allowance)', () => {
  it('connects to the checked address of a name only the resolver knows (pinned, TLS verified)', async () => {
    const { client: c } = client();
    const res = await c.fetch('svc', { url: at('/ok') }, { context });
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe('hello');
    expect(res.redirects).toBe(0);
  });

  it('allows plain http only for a development host', async () => {
    const { client: c } = client();
    const res = await c.fetch('svc', { url: `http://127.0.0.1:${httpPort}/ok` }, { context });
    expect(res.body.toString()).toBe('hello');
    const { client: prod } = client({ dev: { hosts: ['service.test'] } });
    expect(await codeOf(prod.fetch('svc', { url: `http://127.0.0.1:${httpPort}/ok` }, { context }))).toBe(
      'EGRESS_TLS_REQUIRED',
    );
    expect(connections).toBe(1);
  });

  it('sends the body and revealable header values, and follows same-origin redirects', async () => {
    const { client: c } = client();
    const res = await c.fetch(
      'svc',
      {
        url: at('/echo'),
        method: 'POST',
        headers: { authorization: { reveal: () => `Bearer ${SECRET}` }, 'content-type': 'application/json' },
        body: '{"a":1}',
      },
      { context },
    );
    const echoed = JSON.parse(res.body.toString()) as { headers: Record<string, string>; body: string };
    expect(echoed.headers.authorization).toBe(`Bearer ${SECRET}`);
    expect(echoed.body).toBe('{"a":1}');
    const redirected = await c.fetch('svc', { url: at('/redirect?to=/ok') }, { context });
    expect(redirected).toMatchObject({ status: 200, redirects: 1, url: at('/ok') });
  });

  it('drops credentials on a cross-origin redirect and turns a 303 POST into a GET', async () => {
    const { client: c } = client();
    const to = encodeURIComponent(at('/echo', 'other.test'));
    const res = await c.fetch(
      'svc',
      {
        url: at(`/redirect?status=303&to=${to}`),
        method: 'POST',
        headers: {
          authorization: { reveal: () => `Bearer ${SECRET}` },
          'x-api-key': 'plain',
          'content-type': 'text/plain',
        },
        body: 'payload',
      },
      { context },
    );
    const echoed = JSON.parse(res.body.toString()) as {
      method: string;
      headers: Record<string, string>;
      body: string;
    };
    expect(echoed.method).toBe('GET');
    expect(echoed.body).toBe('');
    expect(echoed.headers.authorization).toBeUndefined();
    expect(echoed.headers['content-type']).toBeUndefined();
    expect(echoed.headers['x-api-key']).toBe('plain');
  });

  it('keeps method and body on 307', async () => {
    const { client: c } = client();
    const res = await c.fetch(
      'svc',
      { url: at('/redirect?status=307&to=/echo'), method: 'PUT', body: 'again' },
      { context },
    );
    expect(JSON.parse(res.body.toString())).toMatchObject({ method: 'PUT', body: 'again' });
  });

  it('returns redirects unfollowed when asked', async () => {
    const { client: c } = client();
    const res = await c.fetch('svc', { url: at('/redirect?to=/ok'), followRedirects: false }, { context });
    expect(res.status).toBe(302);
    expect(res.headers.location).toBe('/ok');
  });
});

describe('EgressClient: SSRF refusals', () => {
  it('refuses the local server without the development allowance, and records egress.ssrf.deny', async () => {
    const { client: c, audit } = client({ dev: undefined });
    expect(await codeOf(c.fetch('svc', { url: at('/ok') }, { context }))).toBe('EGRESS_ADDRESS_FORBIDDEN');
    expect(connections).toBe(0);
    const event = audit.events.at(-1);
    expect(event?.ledger).toBe('acme');
    expect(event?.event).toMatchObject({
      action: 'egress.ssrf.deny',
      outcome: 'denied',
      correlationId: 'corr-1',
      resource: { kind: 'connector', id: 'svc' },
      details: { host: 'service.test', category: 'loopback', runId: 'run-1' },
    });
  });

  it.each([
    'https://2130706433/',
    'https://0177.0.0.1/',
    'https://0x7f.1/',
    'https://127.1/',
    'https://[::1]/',
    'https://[::ffff:127.0.0.1]/',
    'https://[::ffff:7f00:1]/',
    'https://0.0.0.0/',
    'https://169.254.169.254/latest/meta-data/',
    'https://[::ffff:169.254.169.254]/',
    'https://internal.test/',
    'https://meta.test/',
  ])('refuses %s (no development allowance)', async (url) => {
    const { client: c } = client({
      dev: undefined,
      policies: policies({ allowedHosts: [...svc.allowedHosts, '::1', '::ffff:7f00:1', '0.0.0.0'] }),
    });
    expect(await codeOf(c.fetch('svc', { url }, { context }))).toBe('EGRESS_ADDRESS_FORBIDDEN');
    expect(connections).toBe(0);
  });

  it.each([
    ['https://internal.test/', 'EGRESS_ADDRESS_FORBIDDEN'],
    ['https://meta.test/latest/meta-data/', 'EGRESS_ADDRESS_FORBIDDEN'],
    ['https://169.254.169.254/latest/meta-data/', 'EGRESS_ADDRESS_FORBIDDEN'],
    ['https://[::ffff:169.254.169.254]/', 'EGRESS_ADDRESS_FORBIDDEN'],
    ['http://meta.test/', 'EGRESS_TLS_REQUIRED'],
    ['https://elsewhere.example/', 'EGRESS_HOST_NOT_ALLOWED'],
    ['file:///etc/passwd', 'EGRESS_URL_INVALID'],
  ])('re-checks a redirect to %s', async (target, expected) => {
    const { client: c, audit } = client();
    const url = at(`/redirect?to=${encodeURIComponent(target)}`);
    expect(await codeOf(c.fetch('svc', { url }, { context }))).toBe(expected);
    expect(received.map((r) => r.url)).toEqual(['/redirect']);
    if (expected === 'EGRESS_ADDRESS_FORBIDDEN') {
      expect(audit.events.at(-1)?.event).toMatchObject({ action: 'egress.ssrf.deny', details: { hop: '1' } });
    }
  });

  it('refuses hosts off the allowlist before resolving them', async () => {
    const { client: c, audit } = client();
    expect(await codeOf(c.fetch('svc', { url: 'https://evil.example/' }, { context }))).toBe(
      'EGRESS_HOST_NOT_ALLOWED',
    );
    expect(audit.events.at(-1)?.event.action).toBe('egress.host.deny');
  });

  it('stops a redirect loop', async () => {
    const { client: c } = client();
    expect(await codeOf(c.fetch('svc', { url: at('/loop') }, { context }))).toBe('EGRESS_REDIRECT_LIMIT');
    expect(received).toHaveLength(6);
  });
});

describe('EgressClient: limits, TLS and bad input', () => {
  it('aborts responses over the limit (declared and streamed)', async () => {
    const { client: c } = client();
    expect(await codeOf(c.fetch('svc', { url: at('/big') }, { context }))).toBe('EGRESS_RESPONSE_TOO_LARGE');
    expect(await codeOf(c.fetch('svc', { url: at('/big-chunked') }, { context }))).toBe(
      'EGRESS_RESPONSE_TOO_LARGE',
    );
  });

  it('refuses request bodies over the limit before connecting', async () => {
    const { client: c } = client({ policies: policies({ maxRequestBytes: 10 }) });
    expect(
      await codeOf(c.fetch('svc', { url: at('/echo'), method: 'POST', body: 'x'.repeat(11) }, { context })),
    ).toBe('EGRESS_REQUEST_TOO_LARGE');
    expect(connections).toBe(0);
  });

  it('times out, and honours the caller signal', async () => {
    const { client: c } = client({ policies: policies({ timeoutMs: 150 }) });
    expect(await codeOf(c.fetch('svc', { url: at('/slow') }, { context }))).toBe('EGRESS_TIMEOUT');
    const controller = new AbortController();
    setTimeout(() => {
      controller.abort();
    }, 50);
    expect(await codeOf(c.fetch('svc', { url: at('/slow') }, { context, signal: controller.signal }))).toBe(
      'EGRESS_ABORTED',
    );
  });

  it('verifies certificates: an untrusted server fails TLS', async () => {
    const { client: c } = client({ ca: undefined });
    expect(await codeOf(c.fetch('svc', { url: at('/ok') }, { context }))).toBe('EGRESS_TLS_FAILED');
  });

  it.each([
    [{ url: 'ftp://service.test/' }, 'EGRESS_URL_INVALID'],
    [{ url: 'not a url' }, 'EGRESS_URL_INVALID'],
    [{ url: 'https://user:pw@service.test/' }, 'EGRESS_URL_INVALID'],
    [{ url: 'https://service.test/', method: 'TRACE' }, 'EGRESS_REQUEST_INVALID'],
    [{ url: 'https://service.test/', headers: { host: 'internal' } }, 'EGRESS_REQUEST_INVALID'],
    [{ url: 'https://service.test/', headers: { 'x-a': 'a\r\nx-b: b' } }, 'EGRESS_REQUEST_INVALID'],
    [{ url: 'https://service.test/', headers: { 'bad name': 'v' } }, 'EGRESS_REQUEST_INVALID'],
    [{ url: 'https://service.test/', body: 'x' }, 'EGRESS_REQUEST_INVALID'],
  ])('rejects %j with a typed error', async (request, expected) => {
    const { client: c } = client();
    expect(await codeOf(c.fetch('svc', request, { context }))).toBe(expected);
    expect(connections).toBe(0);
  });

  it('refuses a revealed header value that could split the request, without echoing it', async () => {
    const { client: c } = client();
    const err = await c
      .fetch(
        'svc',
        { url: at('/ok'), headers: { authorization: { reveal: () => `${SECRET}\r\nx: y` } } },
        { context },
      )
      .catch((e: unknown) => e);
    expect(isCustosError(err, 'EGRESS_REQUEST_INVALID')).toBe(true);
    expect(JSON.stringify({ ...(err as object), message: (err as Error).message })).not.toContain(SECRET);
  });

  it('knows only declared connectors, and validates their policies', async () => {
    const { client: c } = client();
    expect(await codeOf(c.fetch('nope', { url: at('/ok') }, { context }))).toBe('EGRESS_CONNECTOR_UNKNOWN');
    for (const allowedHosts of [['*'], ['*.com'], ['a*.example.com'], [], ['exa mple.com']]) {
      const { client: bad } = client({ policies: policies({ allowedHosts }) });
      expect(await codeOf(bad.fetch('svc', { url: at('/ok') }, { context }))).toBe('EGRESS_POLICY_INVALID');
    }
    expect(() => client({ dev: { hosts: ['*'] } })).toThrow(
      expect.objectContaining({ code: 'EGRESS_POLICY_INVALID' }),
    );
  });

  it('matches *.suffix wildcards below the suffix only', async () => {
    const wild: Record<string, string> = { 'a.b.example.test': '127.0.0.1', 'example.test': '127.0.0.1' };
    const { client: c } = client({
      policies: policies({ allowedHosts: ['*.example.test'] }),
      resolver: (h) => Promise.resolve(wild[h] === undefined ? [] : [{ address: '127.0.0.1', family: 4 }]),
      ca: undefined,
    });
    expect(await codeOf(c.fetch('svc', { url: 'https://example.test/' }, { context }))).toBe(
      'EGRESS_HOST_NOT_ALLOWED',
    );
    expect(await codeOf(c.fetch('svc', { url: 'https://a.b.example.test/' }, { context }))).toBe(
      'EGRESS_ADDRESS_FORBIDDEN',
    );
  });
});

describe('EgressClient: DLP before a byte leaves', () => {
  it('denies fields above the connector clearance, naming paths only, and records the decision', async () => {
    const { client: c, audit } = client();
    const err = await c
      .fetch(
        'svc',
        {
          url: at('/echo'),
          method: 'POST',
          body: '{"email":"jane@example.com","note":"hi"}',
          fields: [
            { path: '/email', classification: 'confidential' },
            { path: '/note', classification: 'public' },
          ],
        },
        { context },
      )
      .catch((e: unknown) => e);
    expect(isCustosError(err, 'EGRESS_DLP_DENIED')).toBe(true);
    expect((err as { details: unknown }).details).toMatchObject({ field: '/email', deniedPaths: ['/email'] });
    expect(JSON.stringify(err)).not.toContain('jane@example.com');
    expect(connections).toBe(0);
    const event = audit.events.at(-1)?.event;
    expect(event).toMatchObject({
      action: 'egress.dlp.deny',
      outcome: 'denied',
      correlationId: 'corr-1',
      details: { clearance: 'internal', highest: 'confidential', deniedPaths: ['/email'], deniedCount: 1 },
    });
    expect(JSON.stringify(audit.events)).not.toContain('jane@example.com');
  });

  it('allows fields within clearance and records classified data leaving', async () => {
    const { client: c, audit } = client();
    const res = await c.fetch(
      'svc',
      {
        url: at('/echo'),
        method: 'POST',
        body: '{}',
        fields: [{ path: '/team', classification: 'internal' }],
      },
      { context },
    );
    expect(res.status).toBe(200);
    expect(audit.events.at(-1)?.event).toMatchObject({ action: 'egress.dlp.allow', outcome: 'success' });
  });

  it('treats unknown labels as above every clearance', async () => {
    const { client: c } = client({ policies: policies({ clearance: 'restricted' }) });
    expect(
      await codeOf(
        c.fetch(
          'svc',
          {
            url: at('/echo'),
            method: 'POST',
            body: '{}',
            fields: [{ path: '/x', classification: 'secret' }],
          },
          { context },
        ),
      ),
    ).toBe('EGRESS_DLP_DENIED');
  });
});
