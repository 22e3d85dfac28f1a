// Records over the API: masked reads for the roles that may read, reveals only for the roles that
// may reveal and only for a declared purpose (the policy refuses before anything is decrypted),
// every read and denial in the ledger with the request id, and bad input refused by name.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueToken } from '../../src/iam/index.ts';
import { parseDataSchema, RecordStore } from '../../src/privacy/index.ts';
import { ledgerEvents, leaks, startHarness, type Harness } from './harness.ts';

const SCHEMA = readFileSync(new URL('../../examples/records/employee.schema.yaml', import.meta.url), 'utf8');
const RECORDS = readFileSync(new URL('../../examples/records/employees.ndjson', import.meta.url), 'utf8');
const URL_1001 = '/api/v1/workspaces/default/records/employee/e-1001';

describe('records API', () => {
  let h: Harness;
  const tokens: Record<'builder' | 'operator' | 'auditor', string> = {
    builder: '',
    operator: '',
    auditor: '',
  };

  beforeAll(async () => {
    h = await startHarness();
    const local = new RecordStore({
      store: h.host.store,
      keyring: h.host.keyring,
      audit: h.host.audit,
      authorize: () => true,
    });
    await local.importNdjson('default', parseDataSchema(SCHEMA), RECORDS, h.host.localActor);
    for (const role of ['builder', 'operator', 'auditor'] as const) {
      tokens[role] = (
        await issueToken(h.host.store.db, { workspaceId: 'default', roles: [role], label: role })
      ).token;
    }
  });
  afterAll(async () => {
    await h.close();
  });

  const as = (role: keyof typeof tokens, method: 'GET' | 'POST', url: string, payload?: unknown) =>
    h.inject({
      method,
      url,
      headers: { authorization: `Bearer ${tokens[role]}`, 'x-request-id': `rec-${role}-${method}` },
      ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
    });

  it('serves a masked record: restricted values withheld, nothing in clear', async () => {
    const res = await as('builder', 'GET', URL_1001);
    expect(res.statusCode).toBe(200);
    const view = res.json<{ revealed: boolean; fields: Record<string, unknown> }>();
    expect(view.revealed).toBe(false);
    expect(view.fields.dept).toBe('engineering');
    expect(res.body).not.toContain('Ada Lovelace');
    expect(res.body).not.toContain('QQ123456C');
    expect(res.body).not.toContain('ada@example.com');
  });

  it('refuses a reveal to roles without record.reveal, and to anyone without a purpose', async () => {
    const builder = await as('builder', 'POST', `${URL_1001}/reveal`, { purpose: 'curiosity' });
    expect(builder.statusCode).toBe(403);
    expect(builder.json()).toMatchObject({ code: 'IAM_ACCESS_DENIED' });

    const noPurpose = await as('operator', 'POST', `${URL_1001}/reveal`, {});
    expect(noPurpose.statusCode).toBe(403);
    expect(noPurpose.json()).toMatchObject({
      rule: 'action record.reveal on workspace default (policy classified-needs-purpose)',
      policies: ['classified-needs-purpose'],
    });
    const events = await ledgerEvents(h.host, 'default');
    const denied = events.filter(
      (e) => e.action === 'iam.access.denied' && e.correlationId === 'rec-operator-POST',
    );
    expect(denied).toHaveLength(1);
    expect(denied[0]?.details).toMatchObject({
      action: 'record.reveal',
      policies: ['classified-needs-purpose'],
    });
    expect(JSON.stringify(events)).not.toContain('Ada Lovelace');
  });

  it('reveals for a declared purpose and records who, why and which request', async () => {
    const res = await as('operator', 'POST', `${URL_1001}/reveal`, { purpose: 'payroll correction 88' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      revealed: true,
      fields: { name: 'Ada Lovelace', email: 'ada@example.com', national_id: 'QQ123456C' },
    });
    const events = await ledgerEvents(h.host, 'default');
    const reveal = events.filter((e) => e.action === 'privacy.record.reveal').at(-1);
    expect(reveal).toMatchObject({
      outcome: 'success',
      actor: { kind: 'token' },
      resource: { kind: 'record', id: 'default/employee/e-1001' },
      correlationId: 'rec-operator-POST',
    });
    expect((reveal as unknown as { purpose: string }).purpose).toBe('payroll correction 88');
    expect(leaks(h.responses.slice(0, -1), ['Ada Lovelace', 'QQ123456C'], [])).toEqual([]);
  });

  it('refuses bad input by field and rule', async () => {
    const cases: [string, 'GET' | 'POST', unknown, string][] = [
      [`${URL_1001}/reveal`, 'POST', { purpose: 'ok purpose', extra: 1 }, 'body:/'],
      [`${URL_1001}/reveal`, 'POST', { purpose: 'x'.repeat(201) }, 'body:/purpose'],
      ['/api/v1/workspaces/default/records/Employee/e-1001', 'GET', undefined, 'path:/type'],
      ['/api/v1/workspaces/default/records/employee/e%2F1', 'GET', undefined, 'path:/id'],
    ];
    for (const [url, method, payload, field] of cases) {
      const res = await as('operator', method, url, payload);
      expect(res.statusCode, url).toBe(400);
      expect(res.json<{ field: string }>().field.startsWith(field), `${url} ${res.body}`).toBe(true);
    }
    const missing = await as('auditor', 'GET', '/api/v1/workspaces/default/records/employee/e-9999');
    expect(missing.statusCode).toBe(404);
  });
});
