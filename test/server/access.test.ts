// Just-in-time elevation and access reviews through the CLI against a listening server: a person
// asks, another admin approves (never the requester), the grant expires by itself, and unused
// grants and tokens are revoked in one step, each step in the ledger.
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli.ts';
import { ledgerEvents, leaks, PASSWORD, startHarness, type Harness } from './harness.ts';

describe('custos access: elevation and reviews', () => {
  let h: Harness;
  let url: string;
  let alice: string;
  let bob: string;
  let aliceId: string;
  const tokens: string[] = [];

  async function personalToken(email: string, roles: string[]): Promise<string> {
    const b = h.browser();
    await b.signInWithTotp(email, h.clock);
    const res = await b.call('POST', '/api/v1/workspaces/default/tokens', { label: `${email} cli`, roles });
    expect(res.statusCode).toBe(201);
    const token = res.json<{ token: string }>().token;
    tokens.push(token);
    return token;
  }

  const as = (token: string) => ({ CUSTOS_URL: url, CUSTOS_TOKEN: token });

  beforeAll(async () => {
    h = await startHarness();
    await h.app.listen({ host: '127.0.0.1', port: 0 });
    url = `http://127.0.0.1:${(h.app.server.address() as AddressInfo).port}`;
    aliceId = await h.createUser('alice@example.test', PASSWORD, [['default', 'operator']]);
    await h.createUser('bob@example.test', PASSWORD, [['default', 'admin']]);
    alice = await personalToken('alice@example.test', ['operator']);
    bob = await personalToken('bob@example.test', ['admin']);
  });
  afterAll(async () => {
    const hashes = await h.host.store.db.selectFrom('api_tokens').select('token_hash').execute();
    expect(leaks(h.responses, [PASSWORD, h.admin, ...hashes.map((r) => r.token_hash)], tokens)).toEqual([]);
    await h.close();
  });

  it('elevates for a while on another admin’s approval, then drops the role by itself', async () => {
    const tokenList = () =>
      h.inject({
        method: 'GET',
        url: '/api/v1/workspaces/default/tokens',
        headers: { authorization: `Bearer ${alice}` },
      });
    expect((await tokenList()).statusCode).toBe(403);

    const asked = await cli(
      ['access', 'elevate', '--role', 'admin', '--for', '1h', '--why', 'incident 42: rotate keys', '--json'],
      as(alice),
    );
    expect(asked.code).toBe(0);
    const request = JSON.parse(asked.stdout) as { id: string; state: string; durationSeconds: number };
    expect(request).toMatchObject({ state: 'pending', durationSeconds: 3600 });

    const byAlice = await cli(['access', 'approve', request.id], as(alice));
    expect(byAlice.code).toBe(1);
    expect(byAlice.stderr).toContain('IAM_ACCESS_DENIED');

    const own = JSON.parse(
      (
        await cli(
          ['access', 'elevate', '--role', 'auditor', '--for', '30m', '--why', 'self check', '--json'],
          as(bob),
        )
      ).stdout,
    ) as { id: string };
    const selfApproval = await cli(['access', 'approve', own.id], as(bob));
    expect(selfApproval.code).toBe(1);
    expect(selfApproval.stderr).toContain('IAM_ELEVATION_SELF_APPROVAL');

    const approved = await cli(['access', 'approve', request.id], as(bob));
    expect(approved.code).toBe(0);
    expect(approved.stdout).toContain('approved');
    expect((await tokenList()).statusCode).toBe(200);
    const twice = await cli(['access', 'approve', request.id], as(bob));
    expect(twice.stderr).toContain('IAM_ELEVATION_NOT_PENDING');

    h.clock.advance(61 * 60_000);
    expect((await tokenList()).statusCode).toBe(403);
    const listed = await cli(['access', 'requests', '--json'], as(bob));
    const states = JSON.parse(listed.stdout) as { id: string; state: string }[];
    expect(states.find((e) => e.id === request.id)?.state).toBe('expired');

    const events = (await ledgerEvents(h.host, 'default')).filter((e) => e.resource.id === request.id);
    expect(events.map((e) => e.action)).toEqual([
      'iam.elevation.request',
      'iam.elevation.approve',
      'iam.elevation.expire',
    ]);
    expect(events[0]?.actor).toEqual({ kind: 'user', id: aliceId });
    expect(events[0]?.details?.reason).toBe('incident 42: rotate keys');
    expect(events[0]?.correlationId).toBeDefined();
  });

  it('lists grants and tokens unused for N days and revokes them all in one step', async () => {
    const idle = await h.createUser('idle@example.test', PASSWORD, [['default', 'auditor']]);
    const idleToken = await personalToken('idle@example.test', ['auditor']);
    h.clock.advance(31 * 86_400_000);
    // Bob keeps working; his grant and token stay in use.
    expect((await cli(['access', 'requests'], as(bob))).code).toBe(0);
    const listed = await cli(['access', 'review', '--unused-days', '30', '--json'], as(bob));
    expect(listed.code).toBe(0);
    const review = JSON.parse(listed.stdout) as { grants: { userId: string }[]; tokens: { id: string }[] };
    expect(review.grants.map((g) => g.userId)).toContain(idle);
    expect(review.grants.map((g) => g.userId)).not.toContain(bob);
    const revoked = await cli(['access', 'review', '--unused-days', '30', '--revoke'], as(bob));
    expect(revoked.code).toBe(0);
    expect(revoked.stdout).toMatch(/revoked \d+ grant\(s\) and \d+ token\(s\)/);
    const denied = await h.inject({
      method: 'GET',
      url: '/api/v1/workspaces/default/grants',
      headers: { authorization: `Bearer ${idleToken}` },
    });
    expect(denied.statusCode).toBe(401);
    expect((await cli(['access', 'review', '--unused-days', '30', '--json'], as(bob))).stdout).toContain(
      '"grants":[]',
    );
    const events = await ledgerEvents(h.host, 'default');
    expect(
      events.some(
        (e) =>
          e.action === 'iam.grant.revoke' && e.details?.reason === 'access-review' && e.details.user === idle,
      ),
    ).toBe(true);
    expect(events.some((e) => e.action === 'iam.token.revoke' && e.details?.reason === 'access-review')).toBe(
      true,
    );
  });

  it('needs CUSTOS_URL and CUSTOS_TOKEN and names what is missing', async () => {
    const res = await cli(['access', 'requests'], {});
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('CUSTOS_URL');
    const bad = await cli(['access', 'requests'], { CUSTOS_URL: url, CUSTOS_TOKEN: 'cus_nope' });
    expect(bad.stderr).toContain('IAM_TOKEN_INVALID');
    expect(bad.stderr).not.toContain('cus_nope');
  });
});
