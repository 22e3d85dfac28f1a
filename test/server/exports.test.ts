// Custody exports over the API: an admin creates a bundle from a saved definition, an auditor lists
// the archive and downloads it (digest-checked, `custody.downloaded` on the ledger); other roles get
// 403 and callers without a credential 401.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { custodyFor, localCaller } from '../../src/cli/commands/export.ts';
import { closeDigestWorkers } from '../../src/custody/index.ts';
import { issueToken } from '../../src/iam/index.ts';
import { ledgerEvents, startHarness, type Harness } from './harness.ts';

const DEFINITION = {
  name: 'regulator-customers',
  outputSchemaVersion: 1,
  records: [{ type: 'customer', fields: { email: { treatment: 'clear', fallback: 'mask' } } }],
  triggeredBy: ['admin'],
  purpose: 'Art. 58 GDPR request',
  retentionDays: 30,
  sourceOrganization: 'Acme GmbH',
};

const BASE = '/api/v1/workspaces/default/exports';

describe('export routes', () => {
  let h: Harness;
  let auditor = '';
  let builder = '';

  beforeAll(async () => {
    h = await startHarness();
    const issue = async (role: 'auditor' | 'builder') =>
      (await issueToken(h.host.store.db, { workspaceId: 'default', roles: [role], label: role })).token;
    auditor = await issue('auditor');
    builder = await issue('builder');
    await custodyFor(h.host).definitions.save('default', DEFINITION, localCaller(h.host));
  });

  afterAll(async () => {
    await h.close();
    await closeDigestWorkers();
  });

  const as = (token: string, method: 'GET' | 'POST', url: string, payload?: unknown) =>
    h.inject({
      method,
      url,
      headers: { authorization: `Bearer ${token}` },
      ...(payload === undefined ? {} : { payload: payload as object }),
    });

  it('creates, lists and downloads a bundle, auditing the download', async () => {
    const defs = await as(auditor, 'GET', `${BASE}/definitions`);
    expect(defs.statusCode).toBe(200);
    expect(defs.json<{ name: string; version: number }[]>()).toMatchObject([
      { name: 'regulator-customers', version: 1 },
    ]);

    const created = await h.inject({
      method: 'POST',
      url: BASE,
      headers: { authorization: `Bearer ${h.admin}`, 'x-request-id': 'export-req-2026-17' },
      payload: { definition: 'regulator-customers', purpose: 'Regulator request 2026-17' },
    });
    expect(created.statusCode).toBe(201);
    const { exportId, sha256 } = created.json<{ exportId: string; sha256: string }>();
    expect(exportId).toMatch(/^exp-/);
    expect(sha256).toMatch(/^[0-9a-f]{64}$/);

    const archive = await as(auditor, 'GET', `${BASE}/archive`);
    expect(archive.statusCode).toBe(200);
    expect(archive.json()).toEqual([expect.objectContaining({ sha256, exportId })]);
    const entry = await as(auditor, 'GET', `${BASE}/archive/${sha256}`);
    expect(entry.json()).toMatchObject({ sha256, exportId, legalHold: false });

    const bundle = await as(auditor, 'GET', `${BASE}/archive/${sha256}/bundle`);
    expect(bundle.statusCode).toBe(200);
    expect(bundle.headers['content-type']).toBe('application/octet-stream');
    expect(createHash('sha256').update(bundle.rawPayload).digest('hex')).toBe(sha256);

    const events = await ledgerEvents(h.host, 'default');
    const downloaded = events.filter((e) => e.action === 'custody.downloaded');
    expect(downloaded).toHaveLength(1);
    expect(downloaded[0]?.details?.bundleSha256).toBe(sha256);
    expect(events.some((e) => e.action === 'custody.produced' && e.details?.exportId === exportId)).toBe(
      true,
    );
    // Every custody event of the export carries the request's correlation id.
    const custody = events.filter((e) =>
      ['custody.requested', 'custody.produced', 'custody.archived'].includes(e.action),
    );
    expect(custody.map((e) => e.action).sort()).toEqual([
      'custody.archived',
      'custody.produced',
      'custody.requested',
    ]);
    expect(custody.every((e) => e.correlationId === 'export-req-2026-17')).toBe(true);
  });

  it('runs an export in the background with Prefer: respond-async, its job readable until archived', async () => {
    const started = await h.inject({
      method: 'POST',
      url: BASE,
      headers: { authorization: `Bearer ${h.admin}`, prefer: 'wait=0, respond-async' },
      payload: { definition: 'regulator-customers', purpose: 'Regulator request 2026-18' },
    });
    expect(started.statusCode).toBe(202);
    expect(started.headers['preference-applied']).toBe('respond-async');
    const job = started.json<{ exportId: string; state: string }>();
    expect(job).toMatchObject({
      state: 'running',
      definition: { name: 'regulator-customers', version: 1 },
      bundle: null,
    });
    const location = String(started.headers.location);
    expect(location).toBe(`${BASE}/jobs/${job.exportId}`);

    let done = { state: 'running' } as { state: string; bundle: { sha256: string } | null; error: unknown };
    for (let i = 0; i < 400 && done.state === 'running'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 25));
      const polled = await as(auditor, 'GET', location);
      expect(polled.statusCode).toBe(200);
      done = polled.json();
    }
    expect(done).toMatchObject({ state: 'succeeded', error: null });
    const sha256 = done.bundle?.sha256 ?? '';
    expect((await as(auditor, 'GET', `${BASE}/archive/${sha256}`)).json()).toMatchObject({
      exportId: job.exportId,
    });
    expect(
      (await as(auditor, 'GET', `${BASE}/jobs`)).json<{ exportId: string }[]>().map((j) => j.exportId),
    ).toContain(job.exportId);
    expect((await as(builder, 'GET', location)).statusCode).toBe(403);
    expect((await as(auditor, 'GET', `${BASE}/jobs/exp-0123`)).json()).toMatchObject({
      code: 'CUSTODY_EXPORT_JOB_NOT_FOUND',
    });

    // A request that cannot run is refused at once, as without the preference, and starts no job.
    const jobsBefore = (await as(auditor, 'GET', `${BASE}/jobs`)).json<unknown[]>().length;
    const refused = await h.inject({
      method: 'POST',
      url: BASE,
      headers: { authorization: `Bearer ${h.admin}`, prefer: 'respond-async' },
      payload: { definition: 'no-such-definition' },
    });
    expect(refused.statusCode).toBe(404);
    expect(refused.json()).toMatchObject({ code: 'CUSTODY_DEFINITION_NOT_FOUND' });
    expect((await as(auditor, 'GET', `${BASE}/jobs`)).json<unknown[]>()).toHaveLength(jobsBefore);
  });

  it('records deliveries and verifications of archived bundles as custody events', async () => {
    const created = await h.asAdmin('POST', BASE, { definition: 'regulator-customers' });
    expect(created.statusCode).toBe(201);
    const { sha256 } = created.json<{ sha256: string }>();
    const deliveries = `${BASE}/archive/${sha256}/deliveries`;

    expect((await as(auditor, 'POST', deliveries, { recipient: 'regulator-bafin' })).statusCode).toBe(403);
    const email = await h.asAdmin('POST', deliveries, { recipient: 'ada@example.com' });
    expect(email.statusCode).toBe(400);
    expect(email.json()).toMatchObject({ field: 'body:/recipient' });
    const delivered = await h.inject({
      method: 'POST',
      url: deliveries,
      headers: { authorization: `Bearer ${h.admin}`, 'x-request-id': 'deliver-77' },
      payload: { recipient: 'regulator-bafin', channel: 'sftp' },
    });
    expect(delivered.statusCode).toBe(201);

    const verified = await as(auditor, 'POST', `${BASE}/archive/${sha256}/verify`);
    expect(verified.statusCode).toBe(200);
    const report = verified.json<{ ok: boolean; checks: { id: string; status: string }[] }>();
    expect(report.ok).toBe(true);
    expect(report.checks.find((c) => c.id === 'signature')?.status).toBe('pass');
    expect((await as(builder, 'POST', `${BASE}/archive/${sha256}/verify`)).statusCode).toBe(403);

    const events = (await ledgerEvents(h.host, 'default')).filter(
      (e) =>
        e.details?.bundleSha256 === sha256 && ['custody.delivered', 'custody.verified'].includes(e.action),
    );
    expect(events).toEqual([
      expect.objectContaining({
        action: 'custody.delivered',
        outcome: 'success',
        correlationId: 'deliver-77',
        details: expect.objectContaining({ recipient: 'regulator-bafin', channel: 'sftp' }) as unknown,
      }),
      expect.objectContaining({
        action: 'custody.verified',
        outcome: 'success',
        actor: expect.objectContaining({ kind: 'token' }) as unknown,
      }),
    ]);
  });

  it('refuses other roles (403) and missing credentials (401)', async () => {
    const body = { definition: 'regulator-customers' };
    expect((await as(auditor, 'POST', BASE, body)).statusCode).toBe(403);
    expect((await as(builder, 'POST', BASE, body)).statusCode).toBe(403);
    expect((await as(builder, 'GET', `${BASE}/definitions`)).statusCode).toBe(403);
    const sha = 'a'.repeat(64);
    const denied = await as(builder, 'GET', `${BASE}/archive/${sha}/bundle`);
    expect(denied.statusCode).toBe(403);
    expect(denied.json()).toMatchObject({ code: 'IAM_ACCESS_DENIED' });
    const anonymous = await h.inject({ method: 'GET', url: `${BASE}/archive/${sha}/bundle` });
    expect(anonymous.statusCode).toBe(401);
    expect((await h.inject({ method: 'POST', url: BASE, payload: body })).statusCode).toBe(401);
    expect((await as(auditor, 'GET', `${BASE}/archive/${sha}/bundle`)).statusCode).toBe(404);
  });
});
