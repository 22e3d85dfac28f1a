// Deny by default, proven on the whole API: every route of the OpenAPI document is called with a
// token of every role and compared with the matrix in docs/access.md; every non-public route
// answers 401 problem+json without credentials; and no response of the suite carries a seeded
// secret value, password or token hash.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueToken, policyText, ROLES, type Role } from '../../src/iam/index.ts';
import { concretePath, leaks, PASSWORD, startHarness, type Harness } from './harness.ts';

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
interface Operation {
  readonly method: Method;
  readonly path: string;
  readonly auth: string;
  readonly action: string;
  readonly operationId: string;
}

const DOC = readFileSync(new URL('../../docs/access.md', import.meta.url), 'utf8');
const SECRET_VALUE = 'seeded-secret-value-7f3a9c';

function between(text: string, begin: string, end: string): string {
  const from = text.indexOf(begin);
  const to = text.indexOf(end);
  if (from < 0 || to < from) throw new Error(`docs/access.md lacks ${begin}`);
  return text.slice(from + begin.length, to);
}

/** route → roles let through, from the documented matrix. */
function documentedMatrix(): Map<string, Set<Role>> {
  const out = new Map<string, Set<Role>>();
  for (const line of between(DOC, '<!-- matrix:begin -->', '<!-- matrix:end -->').split('\n')) {
    const m = /^\|\s*`([A-Z]+ \S+)`\s*\|(.*)\|$/.exec(line.trim());
    if (m === null) continue;
    const cells = (m[2] ?? '').split('|').map((c) => c.trim());
    out.set(m[1] ?? '', new Set(ROLES.filter((_r, i) => cells[i] === '✓')));
  }
  return out;
}

/** Bodies for routes whose policy reads an attribute from the body (a reveal needs a purpose). */
const SAMPLE_BODY: Readonly<Record<string, Record<string, unknown>>> = {
  'record.reveal': { purpose: 'route matrix check' },
};

describe('route × role matrix, unauthenticated access, response scan', () => {
  let h: Harness;
  let operations: Operation[];
  const tokens = new Map<Role, string>();
  const never: string[] = [SECRET_VALUE, PASSWORD];
  const once: string[] = [];

  beforeAll(async () => {
    h = await startHarness();
    for (const role of ROLES) {
      tokens.set(
        role,
        (await issueToken(h.host.store.db, { workspaceId: 'default', roles: [role], label: role })).token,
      );
    }
    once.push(...tokens.values());
    await h.createUser('someone@example.test', PASSWORD, [['default', 'builder']]);
    const put = await h.asAdmin('PUT', '/api/v1/workspaces/default/secrets/API_KEY', {
      connector: 'crm',
      value: SECRET_VALUE,
    });
    expect(put.statusCode).toBe(200);
    expect(put.json()).toMatchObject({ name: 'API_KEY', version: 1, state: 'active' });
    const doc = (await h.asAdmin('GET', '/api/v1/openapi.json')).json<{
      paths: Record<string, Record<string, Record<string, unknown>>>;
    }>();
    operations = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.entries(ops).map(([method, op]) => ({
        method: method.toUpperCase() as Method,
        path,
        auth: String(op['x-custos-auth']),
        action: String(op['x-custos-action']),
        operationId: String(op.operationId),
      })),
    );
  });

  afterAll(async () => {
    const hashes = await h.host.store.db.selectFrom('api_tokens').select('token_hash').execute();
    const sealed = await h.host.store.db.selectFrom('secret_versions').select('ciphertext').execute();
    never.push(...hashes.map((r) => r.token_hash), h.admin);
    never.push(...sealed.map((r) => Buffer.from(r.ciphertext ?? []).toString('base64')));
    expect(h.responses.length).toBeGreaterThan(400);
    expect(leaks(h.responses, never, once)).toEqual([]);
    await h.close();
  });

  it('documents every credential route of the OpenAPI document, and nothing else', () => {
    const documented = documentedMatrix();
    const served = operations.filter((o) => o.auth === 'credential').map((o) => `${o.method} ${o.path}`);
    expect([...documented.keys()].sort()).toEqual([...served].sort());
    const publicOps = operations.filter((o) => o.auth === 'public').map((o) => `${o.method} ${o.path}`);
    expect(publicOps.sort()).toEqual(
      [
        'GET /api/v1/auth/oidc/{provider}/callback',
        'GET /api/v1/auth/oidc/{provider}/login',
        'GET /healthz',
        'POST /api/v1/auth/login',
      ].sort(),
    );
    expect(new Set(operations.map((o) => o.operationId)).size).toBe(operations.length);
  });

  it('lets each role through exactly where docs/access.md says', async () => {
    const documented = documentedMatrix();
    const mismatches: string[] = [];
    for (const op of operations.filter((o) => o.auth === 'credential')) {
      const allowed = documented.get(`${op.method} ${op.path}`) ?? new Set<Role>();
      for (const role of ROLES) {
        const sample = SAMPLE_BODY[op.action];
        const res = await h.inject({
          method: op.method,
          url: concretePath(op.path),
          headers: { authorization: `Bearer ${tokens.get(role) ?? ''}` },
          ...(sample === undefined ? {} : { payload: sample }),
        });
        const body =
          /^application\/(problem\+)?json/.test(res.headers['content-type']?.toString() ?? '') &&
          res.body.startsWith('{')
            ? res.json<{ code?: string }>()
            : {};
        const denied = res.statusCode === 403 && body.code === 'IAM_ACCESS_DENIED';
        if (res.statusCode === 401 || res.statusCode >= 500)
          mismatches.push(`${op.method} ${op.path} as ${role}: ${res.statusCode} ${res.body.slice(0, 120)}`);
        if (denied === allowed.has(role))
          mismatches.push(
            `${op.method} ${op.path} as ${role}: ${denied ? 'denied' : 'let through'}, documented ${allowed.has(role) ? '✓' : '–'}`,
          );
      }
    }
    expect(mismatches).toEqual([]);
  });

  it('answers 401 problem+json to every non-public route without credentials, and changes nothing', async () => {
    const before = await h.host.store.db.selectFrom('api_tokens').select('id').execute();
    const problems: string[] = [];
    for (const op of operations.filter((o) => o.auth !== 'public')) {
      for (const headers of [
        {},
        { authorization: 'Bearer cus_' + 'x'.repeat(43) },
        { cookie: '__Host-custos_session=ses_0123456789abcdef.' + 'A'.repeat(43) },
      ]) {
        if (op.auth === 'signature' && Object.keys(headers).length > 0) continue;
        const res = await h.inject({
          method: op.method,
          url: concretePath(op.path),
          headers: { ...headers, 'content-type': 'application/json' },
          payload: '{}',
        });
        const type = String(res.headers['content-type']);
        if (res.statusCode !== 401 || !type.startsWith('application/problem+json')) {
          problems.push(
            `${op.method} ${op.path} ${JSON.stringify(headers).slice(0, 20)}: ${res.statusCode} ${type}`,
          );
        }
      }
    }
    expect(problems).toEqual([]);
    expect(await h.host.store.db.selectFrom('api_tokens').select('id').execute()).toEqual(before);
  });

  it('documents the policy set exactly as evaluated', () => {
    const documented = between(DOC, '<!-- policy:begin -->', '<!-- policy:end -->').trim();
    expect(documented).toBe(`\`\`\`cedar\n${policyText()}\n\`\`\``);
  });

  it('serves an OpenAPI 3.1 document generated from the route schemas', async () => {
    const doc = (
      await h.inject({
        method: 'GET',
        url: '/api/v1/openapi.json',
        headers: { authorization: `Bearer ${tokens.get('builder') ?? ''}` },
      })
    ).json<{
      openapi: string;
      paths: Record<
        string,
        Record<
          string,
          { requestBody?: { content: Record<string, { schema: { additionalProperties?: boolean } }> } }
        >
      >;
    }>();
    expect(doc.openapi).toBe('3.1.0');
    const login = doc.paths['/api/v1/auth/login']?.post?.requestBody?.content['application/json']?.schema;
    expect(login).toMatchObject({ additionalProperties: false, required: ['email', 'password'] });
  });

  it('records denied requests in the ledger with their correlation id', async () => {
    const res = await h.inject({
      method: 'GET',
      url: '/api/v1/users',
      headers: { authorization: `Bearer ${tokens.get('builder') ?? ''}`, 'x-request-id': 'corr-denied-1' },
    });
    expect(res.statusCode).toBe(403);
    expect(res.headers['x-request-id']).toBe('corr-denied-1');
    const { ledgerEvents } = await import('./harness.ts');
    const events = await ledgerEvents(h.host, 'system');
    expect(events.find((e) => e.correlationId === 'corr-denied-1')).toMatchObject({
      action: 'iam.access.denied',
      outcome: 'denied',
      details: { action: 'user.list', policies: ['default-deny'] },
    });
  });
});
