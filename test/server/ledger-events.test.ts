// The workspace ledger over the API for a SIEM: NDJSON pages of OCSF 1.3.0 events (or the entries as
// recorded), in index order, linked by rel=next; auditors and admins only.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueToken } from '../../src/iam/index.ts';
import { startHarness, type Harness, PASSWORD } from './harness.ts';

const URL_BASE = '/api/v1/workspaces/default/ledger/events';

describe('ledger events route', () => {
  let h: Harness;
  let auditor = '';
  let builder = '';

  beforeAll(async () => {
    h = await startHarness();
    // Grants are workspace events: a few entries in the default ledger.
    await h.createUser('ada@example.test', PASSWORD, [
      ['default', 'builder'],
      ['default', 'reviewer'],
    ]);
    const issue = async (role: 'auditor' | 'builder') =>
      (await issueToken(h.host.store.db, { workspaceId: 'default', roles: [role], label: role })).token;
    auditor = await issue('auditor');
    builder = await issue('builder');
  });
  afterAll(async () => {
    await h.close();
  });

  const get = (token: string, url: string) =>
    h.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });

  it('pages through every entry as OCSF, following rel=next, matching the entries as recorded', async () => {
    const raw = await get(auditor, `${URL_BASE}?format=ledger`);
    expect(raw.statusCode).toBe(200);
    expect(raw.headers['content-type']).toContain('application/x-ndjson');
    const entries = raw.body.trimEnd().split('\n');
    expect(entries.length).toBeGreaterThanOrEqual(3);

    const events: { metadata: { sequence: number; log_name: string }; message: string; class_uid: number }[] =
      [];
    let next: string | undefined = `${URL_BASE}?limit=2`;
    for (let pages = 0; next !== undefined; pages++) {
      expect(pages).toBeLessThan(entries.length);
      const page = await get(auditor, next);
      expect(page.statusCode).toBe(200);
      events.push(
        ...page.body
          .trimEnd()
          .split('\n')
          .filter((l) => l !== '')
          .map((l) => JSON.parse(l) as (typeof events)[number]),
      );
      next = /<([^>]+)>; rel="next"/.exec(String(page.headers.link ?? ''))?.[1];
    }
    expect(events.map((e) => e.metadata.sequence)).toEqual(entries.map((_, i) => i));
    expect(events.every((e) => e.metadata.log_name === 'default')).toBe(true);
    expect(events.map((e) => e.message)).toEqual(
      entries.map((l) => (JSON.parse(l) as { action: string }).action),
    );
    expect(events.filter((e) => e.message === 'iam.grant.create').every((e) => e.class_uid === 3005)).toBe(
      true,
    );
    expect(raw.body).not.toContain('ada@example.test');
  });

  it('refuses other roles and bad queries, naming the parameter', async () => {
    expect((await get(builder, URL_BASE)).statusCode).toBe(403);
    const bad = await get(auditor, `${URL_BASE}?format=cef`);
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toContain('format');
    expect((await get(auditor, `${URL_BASE}?limit=5000`)).statusCode).toBe(400);
    const beyond = await get(auditor, `${URL_BASE}?from=100000`);
    expect(beyond.statusCode).toBeGreaterThanOrEqual(400);
    expect(beyond.statusCode).toBeLessThan(500);
    expect(beyond.json()).toMatchObject({ code: 'LEDGER_INDEX_OUT_OF_RANGE' });
  });
});
