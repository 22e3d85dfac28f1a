// The run API, the webhook route and /metrics on an embedded installation: authorization, typed
// errors for bad deliveries (nothing persisted), and no classified value in any response or metric.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployWorkflow, installationRuntime, signWebhook, type Worker } from '../../../src/engine/index.ts';
import { initInstallation, openHost, type Host } from '../../../src/host/index.ts';
import { issueToken } from '../../../src/iam/index.ts';
import { buildApp } from '../../../src/server/index.ts';

const SOURCE = `
format: custos/workflow/v1
name: intake
version: 1.0.0
owner: team-hr
trigger: { kind: webhook }
retention: short
data:
  fields:
    name: { type: string, classification: confidential, category: 'custom:person_name' }
    email: { type: string, classification: restricted, category: email }
steps:
  - id: shape
    kind: transform
    expression: '{ "greeting": "Hello " & input.name, "domain": $substringAfter(input.email, "@") }'
`;

const PII = ['Grace Hopper', 'grace@navy.example'];

describe('run API, webhooks and metrics (embedded)', () => {
  let dir: string;
  let host: Host;
  let app: FastifyInstance;
  let admin: string;
  let builder: string;
  let key: Buffer;
  let worker: Worker;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'custos-api-'));
    const init = await initInstallation({ dataDir: dir });
    admin = init.adminToken;
    host = await openHost({ dataDir: dir, env: {} });
    builder = (await issueToken(host.store.db, { workspaceId: 'default', roles: ['builder'], label: 'b' }))
      .token;
    app = await buildApp({ host });
    const installed = installationRuntime(host);
    await deployWorkflow(
      { store: host.store, audit: host.audit, compile: installed.compile },
      { workspaceId: 'default', source: SOURCE, filename: 'intake.yaml', actor: host.localActor },
    );
    key = Buffer.from((await installed.webhookKeys('default', 'intake')) ?? []);
    worker = installed.runtime.worker({ pollMs: 10 });
    worker.start();
  });

  afterAll(async () => {
    await worker.stop(1000);
    await app.close();
    await host.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const hook = (body: string, headers: Record<string, string> = {}) =>
    app.inject({
      method: 'POST',
      url: '/hooks/default/intake',
      headers: { 'content-type': 'application/json', ...headers },
      payload: body,
    });
  const signed = (body: string, t = Math.floor(Date.now() / 1000)) => ({
    'custos-signature': signWebhook(key, body, t),
  });
  const runCount = async () =>
    Number(
      (
        await host.store.db
          .selectFrom('runs')
          .select((eb) => eb.fn.countAll().as('n'))
          .executeTakeFirst()
      )?.n ?? 0,
    );

  it('starts a run from a signed webhook and shows only redacted values', async () => {
    const body = JSON.stringify({ name: PII[0], email: PII[1] });
    const res = await hook(body, {
      ...signed(body),
      traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
    });
    expect(res.statusCode).toBe(202);
    const { runId, correlationId } = res.json<{ runId: string; correlationId: string }>();
    expect(correlationId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    let view: { status: string; steps: unknown[] } = { status: 'queued', steps: [] };
    for (let i = 0; i < 200 && view.status !== 'succeeded'; i++) {
      await new Promise((r) => setTimeout(r, 20));
      const shown = await app.inject({
        method: 'GET',
        url: `/api/v1/workspaces/default/runs/${runId}`,
        headers: { authorization: `Bearer ${builder}` },
      });
      expect(shown.statusCode).toBe(200);
      view = shown.json();
    }
    expect(view.status).toBe('succeeded');
    const text = JSON.stringify(view);
    for (const v of PII) expect(text).not.toContain(v);
    expect(text).toContain('[confidential:custom:person_name]');
  });

  it('refuses bad deliveries with typed problems and persists nothing', async () => {
    const before = await runCount();
    const body = JSON.stringify({ name: 'x' });
    const cases: [Promise<{ statusCode: number; json: () => { code: string } }>, number, string][] = [
      [hook(body), 401, 'RUNTIME_WEBHOOK_SIGNATURE_INVALID'],
      [
        hook(body, {
          'custos-signature': signWebhook(Buffer.alloc(32), body, Math.floor(Date.now() / 1000)),
        }),
        401,
        'RUNTIME_WEBHOOK_SIGNATURE_INVALID',
      ],
      [hook(body, signed(body, Math.floor(Date.now() / 1000) - 3600)), 401, 'RUNTIME_WEBHOOK_STALE'],
      [hook('{"name":', signed('{"name":')), 400, 'RUNTIME_WEBHOOK_MALFORMED'],
      [hook('x'.repeat(300 * 1024)), 413, 'RUNTIME_WEBHOOK_TOO_LARGE'],
      [
        hook(`{"a":${'['.repeat(50)}${']'.repeat(50)}}`, signed(`{"a":${'['.repeat(50)}${']'.repeat(50)}}`)),
        400,
        'RUNTIME_WEBHOOK_TOO_DEEP',
      ],
      [
        hook(JSON.stringify({ nationalId: '123' }), signed(JSON.stringify({ nationalId: '123' }))),
        400,
        'INPUT_INVALID',
      ],
    ];
    for (const [pending, status, code] of cases) {
      const res = await pending;
      expect(res.statusCode).toBe(status);
      expect(res.json().code).toBe(code);
    }
    const ok = JSON.stringify({ name: 'Replay Person' });
    const headers = signed(ok);
    expect((await hook(ok, headers)).statusCode).toBe(202);
    const again = await hook(ok, headers);
    expect(again.statusCode).toBe(409);
    expect(again.json<{ code: string }>().code).toBe('RUNTIME_WEBHOOK_REPLAYED');
    expect(await runCount()).toBe(before + 1);
  });

  it('authorizes the run API and /metrics, and keeps data out of metrics', async () => {
    const anon = await app.inject({ method: 'GET', url: '/api/v1/workspaces/default/runs' });
    expect(anon.statusCode).toBe(401);
    const list = await app.inject({
      method: 'GET',
      url: '/api/v1/workspaces/default/runs',
      headers: { authorization: `Bearer ${builder}` },
    });
    expect(list.statusCode).toBe(200);
    expect(list.json<unknown[]>().length).toBeGreaterThan(0);
    const started = await app.inject({
      method: 'POST',
      url: '/api/v1/workspaces/default/workflows/intake/runs',
      headers: { authorization: `Bearer ${builder}` },
      payload: { input: { name: 'Api Person' }, idempotencyKey: 'k-1' },
    });
    expect(started.statusCode).toBe(202);
    const cancelByBuilder = await app.inject({
      method: 'POST',
      url: `/api/v1/workspaces/default/runs/${started.json<{ runId: string }>().runId}/cancel`,
      headers: { authorization: `Bearer ${builder}` },
    });
    expect(cancelByBuilder.statusCode).toBe(403);
    const deployByBuilder = await app.inject({
      method: 'POST',
      url: '/api/v1/workspaces/default/workflows',
      headers: { authorization: `Bearer ${builder}` },
      payload: { source: SOURCE },
    });
    expect(deployByBuilder.statusCode).toBe(403);
    const deployByAdmin = await app.inject({
      method: 'POST',
      url: '/api/v1/workspaces/default/workflows',
      headers: { authorization: `Bearer ${admin}` },
      payload: { source: SOURCE },
    });
    expect(deployByAdmin.statusCode).toBe(200);
    expect(deployByAdmin.json<{ created: boolean; version: number }>()).toMatchObject({
      created: false,
      version: 1,
    });
    const listed = await app.inject({
      method: 'GET',
      url: '/api/v1/workspaces/default/workflows',
      headers: { authorization: `Bearer ${builder}` },
    });
    expect(listed.statusCode).toBe(200);
    expect(listed.json()).toEqual([
      expect.objectContaining({
        workflow: 'intake',
        latestVersion: 1,
        deployments: [expect.objectContaining({ environment: 'dev', version: 1 })],
      }),
    ]);
    const versions = await app.inject({
      method: 'GET',
      url: '/api/v1/workspaces/default/workflows/intake',
      headers: { authorization: `Bearer ${builder}` },
    });
    expect(versions.json<{ version: number; source: string }[]>()[0]).toMatchObject({
      version: 1,
      source: SOURCE,
    });
    const missing = await app.inject({
      method: 'GET',
      url: '/api/v1/workspaces/default/workflows/nope',
      headers: { authorization: `Bearer ${builder}` },
    });
    expect(missing.statusCode).toBe(404);
    const badQuery = await app.inject({
      method: 'GET',
      url: '/api/v1/workspaces/default/runs?status=finished&limit=5',
      headers: { authorization: `Bearer ${builder}` },
    });
    expect(badQuery.statusCode).toBe(400);
    expect(badQuery.json()).toMatchObject({ code: 'API_VALIDATION_FAILED', field: 'query:/status' });
    const unknownField = await app.inject({
      method: 'POST',
      url: '/api/v1/workspaces/default/workflows/intake/runs',
      headers: { authorization: `Bearer ${builder}` },
      payload: { input: {}, constructor: { prototype: { polluted: true } } },
    });
    expect(unknownField.statusCode).toBe(400);

    expect((await app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(401);
    const metrics = await app.inject({
      method: 'GET',
      url: '/metrics',
      headers: { authorization: `Bearer ${admin}` },
    });
    expect(metrics.statusCode).toBe(200);
    expect(metrics.body).toMatch(
      /custos_runs_started_total\{workflow="intake",owner="team-hr",environment="dev",trigger="webhook"\} \d/,
    );
    expect(metrics.body).toContain('custos_step_duration_seconds_bucket');
    for (const v of [...PII, 'Replay Person', 'Api Person', 'navy']) expect(metrics.body).not.toContain(v);
  });

  it('lets only admins switch kill switches, and refuses runs while one is engaged', async () => {
    const put = (token: string, engaged: boolean) =>
      app.inject({
        method: 'PUT',
        url: '/api/v1/workspaces/default/kill-switches',
        headers: { authorization: `Bearer ${token}` },
        payload: { scope: 'workflow', target: 'intake', engaged },
      });
    expect((await put(builder, true)).statusCode).toBe(403);
    const engaged = await put(admin, true);
    expect(engaged.statusCode).toBe(200);
    expect(engaged.json<{ state: string }>().state).toBe('engaged');
    const body = JSON.stringify({ name: 'Stopped Person' });
    const refused = await hook(body, signed(body));
    expect(refused.statusCode).toBe(423);
    expect(refused.json<{ code: string }>().code).toBe('RUNTIME_KILL_SWITCH_ENGAGED');
    const listed = await app.inject({
      method: 'GET',
      url: '/api/v1/workspaces/default/kill-switches',
      headers: { authorization: `Bearer ${admin}` },
    });
    expect(listed.json<{ scopeId: string }[]>().map((k) => k.scopeId)).toContain('default/intake');
    expect((await put(admin, false)).statusCode).toBe(200);
    const again = JSON.stringify({ name: 'Released Person' });
    expect((await hook(again, signed(again))).statusCode).toBe(202);
  });
});
