// Hostile and malformed input: malformed JSON, wrong types, unknown fields, oversized bodies, deep
// nesting, prototype-pollution keys, bad and expired credentials, wrong media types. Each gets a
// 4xx problem naming the field and the rule, and nothing changes in the store.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueToken } from '../../src/iam/index.ts';
import { checkJsonShape } from '../../src/server/plugins/body-guard.ts';
import { concretePath, PASSWORD, startHarness, type Harness } from './harness.ts';

describe('bad input at the API edge', () => {
  let h: Harness;
  const counts = async () => ({
    users: (await h.host.store.db.selectFrom('users').select('id').execute()).length,
    tokens: (await h.host.store.db.selectFrom('api_tokens').select('id').execute()).length,
    grants: (await h.host.store.db.selectFrom('role_grants').select('id').execute()).length,
  });

  beforeAll(async () => {
    h = await startHarness({ rateLimits: { perAnonymous: 1000 } });
  });
  afterAll(() => h.close());

  const post = (url: string, payload: string, headers: Record<string, string> = {}) =>
    h.inject({
      method: 'POST',
      url,
      headers: { authorization: `Bearer ${h.admin}`, 'content-type': 'application/json', ...headers },
      payload,
    });

  it('names the field and the rule for every kind of bad body, and writes nothing', async () => {
    const before = await counts();
    const deep = `{"email":${'['.repeat(40)}${']'.repeat(40)}}`;
    const cases: [string, number, string, string | RegExp][] = [
      ['{"email":', 400, 'API_BODY_INVALID', 'body'],
      ['', 400, 'API_VALIDATION_FAILED', 'body:/'],
      ['[]', 400, 'API_VALIDATION_FAILED', 'body:/'],
      ['{"email":5}', 400, 'API_VALIDATION_FAILED', 'body:/email'],
      [
        '{"email":"x@example.test","password":12345678901234}',
        400,
        'API_VALIDATION_FAILED',
        'body:/password',
      ],
      ['{"email":"x@example.test","isAdmin":true}', 400, 'API_VALIDATION_FAILED', 'body:/isAdmin'],
      ['{"email":"x@example.test","kind":"root"}', 400, 'API_VALIDATION_FAILED', 'body:/kind'],
      ['{"email":"not an email"}', 400, 'INPUT_INVALID', 'email'],
      ['{"email":"x@example.test","password":"short"}', 400, 'IAM_PASSWORD_WEAK', 'password'],
      [deep, 400, 'API_BODY_TOO_DEEP', /^\/email(\/0){31}$/],
      [
        '{"email":"x@example.test","__proto__":{"kind":"service"}}',
        400,
        'API_BODY_FORBIDDEN_KEY',
        '/__proto__',
      ],
      [
        '{"email":"x@example.test","displayName":{"constructor":{"prototype":1}}}',
        400,
        'API_BODY_FORBIDDEN_KEY',
        '/displayName/constructor',
      ],
      [
        `{"email":"x@example.test","displayName":"${'x'.repeat(1_100_000)}"}`,
        413,
        'API_BODY_TOO_LARGE',
        'body',
      ],
    ];
    for (const [payload, status, code, field] of cases) {
      const res = await post('/api/v1/users', payload);
      expect(res.statusCode, payload.slice(0, 60)).toBe(status);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      const problem = res.json<{ code: string; field: string; rule: string }>();
      expect(problem.code, payload.slice(0, 60)).toBe(code);
      if (typeof field === 'string') expect(problem.field).toBe(field);
      else expect(problem.field).toMatch(field);
      expect(problem.rule.length).toBeGreaterThan(0);
    }
    expect(({} as Record<string, unknown>).kind).toBeUndefined();
    expect(await counts()).toEqual(before);
  });

  it('lists every problem of a body at once', async () => {
    const res = await post(
      '/api/v1/workspaces/default/tokens',
      '{"label":"","roles":["root"],"expiresInDays":"ten","x":1}',
    );
    expect(res.statusCode).toBe(400);
    const fields = res.json<{ problems: { field: string }[] }>().problems.map((p) => p.field);
    expect(fields).toEqual(
      expect.arrayContaining(['body:/label', 'body:/roles/0', 'body:/expiresInDays', 'body:/x']),
    );
  });

  it('checks path and query parameters and refuses bodies where none belong', async () => {
    const path = await h.asAdmin('GET', '/api/v1/users/not-a-user-id');
    expect(path.json()).toMatchObject({ code: 'API_VALIDATION_FAILED', field: 'path:/userId' });
    const query = await h.asAdmin('GET', '/api/v1/workspaces/default/access-review?unusedDays=ten');
    expect(query.json()).toMatchObject({ code: 'API_VALIDATION_FAILED', field: 'query:/unusedDays' });
    const unknownQuery = await h.asAdmin('GET', '/api/v1/workspaces/default/access-review?sneaky=1');
    expect(unknownQuery.json()).toMatchObject({ code: 'API_VALIDATION_FAILED', field: 'query:/sneaky' });
    const ws = await h.asAdmin('GET', '/api/v1/workspaces/Not_Valid/grants');
    expect(ws.statusCode).toBe(400);
    const stray = await post('/api/v1/workspaces/default/keys/rotate', '{"version":7}');
    expect(stray.json()).toMatchObject({ code: 'API_VALIDATION_FAILED', field: 'body:/', rule: 'no body' });
    const media = await h.inject({
      method: 'POST',
      url: '/api/v1/users',
      headers: { authorization: `Bearer ${h.admin}`, 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'email=x%40example.test',
    });
    expect(media.statusCode).toBe(415);
    expect(media.json()).toMatchObject({ code: 'API_MEDIA_TYPE_UNSUPPORTED' });
  });

  it('refuses malformed, unknown, expired and revoked tokens and sessions with 401', async () => {
    const expired = await issueToken(h.host.store.db, {
      workspaceId: 'default',
      roles: ['admin'],
      label: 'old',
      expiresAt: new Date(Date.now() - 1000).toISOString(),
    });
    const revoked = await issueToken(h.host.store.db, {
      workspaceId: 'default',
      roles: ['admin'],
      label: 'gone',
    });
    await h.asAdmin('DELETE', `/api/v1/workspaces/default/tokens/${revoked.id}`);
    const cases: [Record<string, string>, string][] = [
      [{ authorization: 'Bearer' }, 'IAM_TOKEN_INVALID'],
      [{ authorization: 'Basic YWRtaW46YWRtaW4=' }, 'IAM_TOKEN_INVALID'],
      [{ authorization: `Bearer ${h.admin}x` }, 'IAM_TOKEN_INVALID'],
      [{ authorization: `Bearer ${expired.token}` }, 'IAM_TOKEN_INVALID'],
      [{ authorization: `Bearer ${revoked.token}` }, 'IAM_TOKEN_INVALID'],
      [{ cookie: '__Host-custos_session=garbage' }, 'IAM_SESSION_INVALID'],
      [{ cookie: `__Host-custos_session=ses_0123456789abcdef.${'A'.repeat(43)}` }, 'IAM_SESSION_INVALID'],
    ];
    for (const [headers, code] of cases) {
      const res = await h.inject({ method: 'GET', url: '/api/v1/users', headers });
      expect(res.statusCode).toBe(401);
      expect(res.json()).toMatchObject({ code });
      expect(res.body).not.toContain(expired.token);
    }
    const b = h.browser();
    await h.createUser('expiring@example.test', PASSWORD, [['default', 'builder']]);
    await b.signIn('expiring@example.test');
    h.clock.advance(13 * 3600_000);
    expect((await b.call('GET', '/api/v1/auth/session')).json()).toMatchObject({
      code: 'IAM_SESSION_INVALID',
    });
  });

  it('sends security headers and request ids, and no CORS headers', async () => {
    const res = await h.inject({
      method: 'GET',
      url: '/healthz',
      headers: { origin: 'https://evil.example.test', 'x-request-id': 'bad id!' },
    });
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    for (const header of [
      'strict-transport-security',
      'content-security-policy',
      'x-frame-options',
      'x-content-type-options',
    ]) {
      expect(res.headers[header]).toBeDefined();
    }
    const preflight = await h.inject({
      method: 'OPTIONS',
      url: '/api/v1/users',
      headers: { origin: 'https://evil.example.test', 'access-control-request-method': 'POST' },
    });
    expect(preflight.statusCode).toBe(404);
    expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('limits the shape of JSON values as a pure check', () => {
    expect(() => {
      checkJsonShape(JSON.parse('{"a":{"__proto__":1}}'));
    }).toThrow(/forbidden key/);
    expect(() => {
      checkJsonShape(Array.from({ length: 1001 }, () => 0));
    }).toThrow(/more than 1000/);
    expect(() => {
      checkJsonShape({ a: [1, 'x', { b: null }] });
    }).not.toThrow();
  });
});

describe('rate limits', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ rateLimits: { perIdentity: 5, perAnonymous: 3 } });
  });
  afterAll(() => h.close());

  it('limits each credential and each anonymous address separately, with Retry-After', async () => {
    const other = (
      await issueToken(h.host.store.db, { workspaceId: 'default', roles: ['auditor'], label: 'other' })
    ).token;
    for (let i = 0; i < 5; i++) expect((await h.asAdmin('GET', '/api/v1/roles')).statusCode).toBe(200);
    const limited = await h.asAdmin('GET', '/api/v1/roles');
    expect(limited.statusCode).toBe(429);
    expect(limited.json()).toMatchObject({ code: 'API_RATE_LIMITED' });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(
      (await h.inject({ method: 'GET', url: '/api/v1/roles', headers: { authorization: `Bearer ${other}` } }))
        .statusCode,
    ).toBe(200);
    for (let i = 0; i < 3; i++)
      expect((await h.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    expect(
      (
        await h.inject({
          method: 'POST',
          url: '/api/v1/auth/login',
          payload: { email: 'a@b.cd', password: 'x' },
        })
      ).statusCode,
    ).toBe(429);
  });
});

describe('bad bodies on every route that changes something', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ rateLimits: { perIdentity: 100_000 } });
  });
  afterAll(() => h.close());

  const TABLES = [
    'users',
    'api_tokens',
    'role_grants',
    'secret_versions',
    'workflow_versions',
    'runs',
  ] as const;
  const snapshot = async () =>
    Promise.all(TABLES.map(async (t) => (await h.host.store.db.selectFrom(t).selectAll().execute()).length));

  it('refuses malformed JSON and prototype-pollution keys with a 4xx problem naming the field', async () => {
    const doc = (await h.asAdmin('GET', '/api/v1/openapi.json')).json<{
      paths: Record<string, Record<string, { 'x-custos-auth': string }>>;
    }>();
    const unsafe = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.entries(ops)
        .filter(([m, op]) => ['post', 'put', 'patch'].includes(m) && op['x-custos-auth'] === 'credential')
        .map(([m]) => ({ method: m.toUpperCase() as 'POST' | 'PUT' | 'PATCH', path })),
    );
    expect(unsafe.length).toBeGreaterThan(30);
    const before = await snapshot();
    const wrong: string[] = [];
    for (const { method, path } of unsafe) {
      const url = concretePath(path);
      for (const payload of [
        '{"purpose":',
        '{"__proto__":{"isAdmin":true}}',
        '{"constructor":{"prototype":{"isAdmin":true}}}',
      ]) {
        const res = await h.inject({
          method,
          url,
          headers: { authorization: `Bearer ${h.admin}`, 'content-type': 'application/json' },
          payload,
        });
        const type = String(res.headers['content-type']);
        const body = type.startsWith('application/problem+json') ? res.json<{ field?: string }>() : {};
        if (res.statusCode < 400 || res.statusCode >= 500 || typeof body.field !== 'string') {
          wrong.push(
            `${method} ${path} ${payload.slice(0, 14)}: ${res.statusCode} ${res.body.slice(0, 100)}`,
          );
        }
      }
    }
    expect(wrong).toEqual([]);
    expect(await snapshot()).toEqual(before);
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
  });
});
