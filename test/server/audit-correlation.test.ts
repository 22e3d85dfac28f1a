// Secret changes made over the API are recorded with the request's correlation id (the caller's
// x-request-id when it sends a valid one), and never with the value.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ledgerEvents, startHarness, type Harness } from './harness.ts';

const VALUE = 'correlated-secret-value-51c2';

describe('correlation ids on vault events', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  it('carries the request id of the write and the delete', async () => {
    const put = await h.inject({
      method: 'PUT',
      url: '/api/v1/workspaces/default/secrets/CRM_KEY',
      headers: { authorization: `Bearer ${h.admin}`, 'x-request-id': 'change-4711.put' },
      payload: { connector: 'crm', value: VALUE },
    });
    expect(put.statusCode).toBe(200);
    const del = await h.inject({
      method: 'DELETE',
      url: '/api/v1/workspaces/default/secrets/CRM_KEY?connector=crm',
      headers: { authorization: `Bearer ${h.admin}`, 'x-request-id': 'change-4711.delete' },
    });
    expect(del.statusCode).toBe(200);
    const events = (await ledgerEvents(h.host, 'default')).filter((e) => e.action.startsWith('secret.'));
    expect(events.map((e) => [e.action, e.correlationId])).toEqual([
      ['secret.set', 'change-4711.put'],
      ['secret.delete', 'change-4711.delete'],
    ]);
    expect(JSON.stringify(events)).not.toContain(VALUE);
  });
});
