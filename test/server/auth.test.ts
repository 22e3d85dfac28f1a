// Sign-in over the API: cookie attributes, CSRF, session fixation, idle and absolute timeouts,
// revocation on the next request, throttling and lockout without user enumeration, mandatory TOTP
// for admins and publishers, and the audit trail of all of it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codeFor, ledgerEvents, leaks, PASSWORD, startHarness, type Harness } from './harness.ts';

describe('sign-in and sessions', () => {
  let h: Harness;
  let builderId: string;
  let adminId: string;
  const secrets: string[] = [];
  const issued: string[] = [];

  beforeAll(async () => {
    h = await startHarness({ iam: { settings: { lockoutThreshold: 3 } } });
    builderId = await h.createUser('builder@example.test', PASSWORD, [['default', 'builder']]);
    adminId = await h.createUser('admin@example.test', PASSWORD, [['default', 'admin']]);
    secrets.push(PASSWORD, h.admin);
    const hashes = await h.host.store.db.selectFrom('api_tokens').select('token_hash').execute();
    secrets.push(...hashes.map((r) => r.token_hash));
  });
  afterAll(async () => {
    expect(leaks(h.responses, secrets, issued)).toEqual([]);
    await h.close();
  });

  it('starts a session in an HttpOnly, Secure, SameSite cookie with a CSRF token', async () => {
    const b = h.browser();
    const res = await b.signIn('builder@example.test');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ stage: 'active', user: { id: builderId } });
    const cookie = String(res.headers['set-cookie']);
    expect(cookie).toMatch(/^__Host-custos_session=ses_[0-9a-f]{16}\.[A-Za-z0-9_-]{43}; /);
    for (const attr of ['HttpOnly', 'Secure', 'SameSite=Lax', 'Path=/']) expect(cookie).toContain(attr);
    expect(cookie).not.toMatch(/Domain=/i);
    const me = await b.call('GET', '/api/v1/auth/session');
    expect(me.statusCode).toBe(200);
    expect(me.json()).toMatchObject({
      via: 'session',
      stage: 'active',
      grants: [{ workspace: 'default', role: 'builder' }],
    });
    issued.push(b.cookie ?? '');
  });

  it('refuses unsafe cookie requests without the session CSRF token', async () => {
    const b = h.browser();
    await b.signIn('builder@example.test');
    const csrf = b.csrf;
    b.csrf = undefined;
    const bare = await b.call('POST', '/api/v1/workspaces/default/tokens', {
      label: 'x',
      roles: ['builder'],
    });
    expect(bare.statusCode).toBe(403);
    expect(bare.json()).toMatchObject({ code: 'IAM_CSRF_INVALID', field: 'x-csrf-token' });
    b.csrf = 'A'.repeat(43);
    expect(
      (await b.call('POST', '/api/v1/workspaces/default/tokens', { label: 'x', roles: ['builder'] }))
        .statusCode,
    ).toBe(403);
    b.csrf = csrf;
    const ok = await b.call('POST', '/api/v1/workspaces/default/tokens', {
      label: 'cli',
      roles: ['builder'],
    });
    expect(ok.statusCode).toBe(201);
    issued.push(ok.json<{ token: string }>().token);
    // Safe methods need no CSRF token; a token from another session does not work.
    const other = h.browser();
    await other.signIn('builder@example.test');
    other.csrf = csrf;
    expect((await other.call('POST', '/api/v1/auth/logout')).statusCode).toBe(403);
  });

  it('never adopts a session id the client brings (fixation) and issues a new one at every step', async () => {
    const victim = h.browser();
    victim.cookie = `ses_${'0'.repeat(16)}.${'A'.repeat(43)}`;
    const before = victim.cookie;
    await victim.signIn('builder@example.test');
    expect(victim.cookie).not.toBe(before);
    // A live session presented at sign-in is ended, not continued.
    const first = victim.cookie;
    await victim.signIn('builder@example.test');
    const replay = h.browser();
    replay.cookie = first;
    expect((await replay.call('GET', '/api/v1/auth/session')).statusCode).toBe(401);
    // The second factor step replaces the pending session id as well.
    const admin = h.browser();
    await admin.signIn('admin@example.test');
    const pending = admin.cookie;
    const secret = (await admin.call('POST', '/api/v1/auth/mfa/totp/enroll')).json<{ secret: string }>()
      .secret;
    issued.push(secret);
    await admin.call('POST', '/api/v1/auth/mfa/totp/confirm', { code: codeFor(secret, h.clock) });
    expect(admin.cookie).not.toBe(pending);
    const old = h.browser();
    old.cookie = pending;
    expect((await old.call('GET', '/api/v1/auth/session')).statusCode).toBe(401);
  });

  it('makes TOTP mandatory for admins: nothing but enrollment until a code verifies', async () => {
    const id = await h.createUser('admin2@example.test', PASSWORD, [['default', 'admin']]);
    const b = h.browser();
    const login = await b.signIn('admin2@example.test');
    expect(login.json()).toMatchObject({ stage: 'enroll' });
    const blocked = await b.call('GET', '/api/v1/users');
    expect(blocked.statusCode).toBe(403);
    expect(blocked.json()).toMatchObject({ code: 'IAM_ACCESS_DENIED' });
    const enrolled = await b.call('POST', '/api/v1/auth/mfa/totp/enroll');
    const secret = enrolled.json<{ secret: string; otpauthUri: string }>().secret;
    issued.push(secret);
    expect((await b.call('POST', '/api/v1/auth/mfa/totp/confirm', { code: '000000' })).json()).toMatchObject({
      code: 'IAM_MFA_INVALID',
    });
    expect(
      (await b.call('POST', '/api/v1/auth/mfa/totp/confirm', { code: codeFor(secret, h.clock) })).statusCode,
    ).toBe(200);
    expect((await b.call('GET', '/api/v1/users')).statusCode).toBe(200);
    // Next sign-in asks for the code; a code is never accepted twice; enrollment cannot be restarted.
    const again = h.browser();
    expect((await again.signIn('admin2@example.test')).json()).toMatchObject({ stage: 'mfa' });
    expect((await again.call('POST', '/api/v1/auth/mfa/totp/enroll')).json()).toMatchObject({
      code: 'IAM_MFA_REQUIRED',
    });
    expect((await again.call('GET', '/api/v1/users')).statusCode).toBe(403);
    const reused = await again.call('POST', '/api/v1/auth/mfa/totp/verify', {
      code: codeFor(secret, h.clock),
    });
    expect(reused.json()).toMatchObject({ code: 'IAM_MFA_INVALID' });
    h.clock.advance(30_000);
    expect(
      (await again.call('POST', '/api/v1/auth/mfa/totp/verify', { code: codeFor(secret, h.clock) }))
        .statusCode,
    ).toBe(200);
    expect((await again.call('GET', '/api/v1/users')).statusCode).toBe(200);
    const events = await ledgerEvents(h.host, 'system');
    expect(events.some((e) => e.action === 'iam.mfa.enroll' && e.actor.id === id)).toBe(true);
    expect(events.some((e) => e.action === 'iam.mfa.failure' && e.actor.id === id)).toBe(true);
    expect(events.some((e) => e.action === 'iam.mfa.verify' && e.actor.id === id)).toBe(true);
  });

  it('ends idle sessions, and every session at its absolute deadline', async () => {
    const b = h.browser();
    await b.signIn('builder@example.test');
    h.clock.advance(29 * 60_000);
    expect((await b.call('GET', '/api/v1/auth/session')).statusCode).toBe(200);
    h.clock.advance(29 * 60_000);
    expect((await b.call('GET', '/api/v1/auth/session')).statusCode).toBe(200);
    h.clock.advance(31 * 60_000);
    const idle = await b.call('GET', '/api/v1/auth/session');
    expect(idle.statusCode).toBe(401);
    expect(idle.json()).toMatchObject({ code: 'IAM_SESSION_INVALID', rule: 'idle timeout' });
    const active = h.browser();
    await active.signIn('builder@example.test');
    for (let i = 0; i < 25; i++) {
      h.clock.advance(29 * 60_000);
      const res = await active.call('GET', '/api/v1/auth/session');
      if (res.statusCode !== 200) {
        expect(res.json()).toMatchObject({ code: 'IAM_SESSION_INVALID', rule: 'absolute session lifetime' });
        expect(i).toBe(24);
      }
    }
  });

  it('revokes on the next request: sign-out, session revocation, disabling a user, revoking a grant', async () => {
    const b = h.browser();
    await b.signIn('builder@example.test');
    const kept = b.cookie;
    expect((await b.call('POST', '/api/v1/auth/logout')).statusCode).toBe(204);
    b.cookie = kept;
    expect((await b.call('GET', '/api/v1/auth/session')).statusCode).toBe(401);

    const c = h.browser();
    await c.signIn('builder@example.test');
    const token = (
      await c.call('POST', '/api/v1/workspaces/default/tokens', { label: 'mine', roles: ['builder'] })
    ).json<{ token: string }>().token;
    issued.push(token);
    const bearer = { authorization: `Bearer ${token}` };
    expect(
      (await h.inject({ method: 'GET', url: '/api/v1/workspaces/default/secrets', headers: bearer }))
        .statusCode,
    ).toBe(200);
    const ended = (await h.asAdmin('POST', `/api/v1/users/${builderId}/sessions/revoke`)).json<{
      sessions: number;
    }>();
    expect(ended.sessions).toBeGreaterThan(0);
    expect((await c.call('GET', '/api/v1/auth/session')).statusCode).toBe(401);

    const grants = (await h.asAdmin('GET', '/api/v1/workspaces/default/grants')).json<
      { id: string; userId: string }[]
    >();
    const grant = grants.find((g) => g.userId === builderId);
    expect(
      (await h.asAdmin('DELETE', `/api/v1/workspaces/default/grants/${grant?.id ?? ''}`)).statusCode,
    ).toBe(204);
    expect(
      (await h.inject({ method: 'GET', url: '/api/v1/workspaces/default/secrets', headers: bearer }))
        .statusCode,
    ).toBe(403);
    await h.asAdmin('POST', '/api/v1/workspaces/default/grants', { userId: builderId, role: 'builder' });
    expect(
      (await h.inject({ method: 'GET', url: '/api/v1/workspaces/default/secrets', headers: bearer }))
        .statusCode,
    ).toBe(200);

    const d = h.browser();
    await d.signIn('builder@example.test');
    expect((await h.asAdmin('POST', `/api/v1/users/${builderId}/disable`)).json()).toMatchObject({
      status: 'disabled',
    });
    expect((await d.call('GET', '/api/v1/auth/session')).statusCode).toBe(401);
    expect(
      (await h.inject({ method: 'GET', url: '/api/v1/workspaces/default/secrets', headers: bearer })).json(),
    ).toMatchObject({
      code: 'IAM_TOKEN_INVALID',
    });
    expect((await h.browser().signIn('builder@example.test')).json()).toMatchObject({
      code: 'IAM_CREDENTIALS_INVALID',
    });
    await h.asAdmin('POST', `/api/v1/users/${builderId}/enable`);
    expect((await h.browser().signIn('builder@example.test')).statusCode).toBe(200);
  });

  it('answers a wrong password and an unknown account identically, in comparable time', async () => {
    const wrong = await h.browser().signIn('admin@example.test', 'not the passphrase at all');
    const unknown = await h.browser().signIn('nobody@example.test', 'not the passphrase at all');
    const malformed = await h.browser().signIn('not-an-email', 'x');
    for (const res of [wrong, unknown, malformed]) {
      expect(res.statusCode).toBe(401);
      expect(res.json()).toEqual(wrong.json());
    }
    const time = async (email: string) => {
      const t = performance.now();
      await h.browser().signIn(email, 'still not the passphrase');
      return performance.now() - t;
    };
    const known: number[] = [];
    const none: number[] = [];
    for (let i = 0; i < 3; i++) {
      known.push(await time('admin@example.test'));
      none.push(await time(`ghost${i}@example.test`));
      h.clock.advance(16 * 60_000);
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
    // Both paths run the same argon2id work; allow generous noise on a shared machine.
    expect(median(none)).toBeGreaterThan(median(known) / 10);
    expect(median(known)).toBeGreaterThan(median(none) / 10);
  });

  it('throttles and locks per submitted account, existing or not, and audits it', async () => {
    h.clock.advance(60 * 60_000);
    for (const email of ['admin@example.test', 'ghost@example.test']) {
      for (let i = 0; i < 3; i++) {
        expect((await h.browser().signIn(email, 'wrong wrong wrong')).json()).toMatchObject({
          code: 'IAM_CREDENTIALS_INVALID',
        });
      }
      const locked = await h
        .browser()
        .signIn(email, email.startsWith('admin') ? PASSWORD : 'anything at all');
      expect(locked.statusCode).toBe(429);
      expect(locked.json()).toMatchObject({ code: 'IAM_SIGN_IN_LOCKED' });
    }
    h.clock.advance(16 * 60_000);
    expect((await h.browser().signIn('admin@example.test')).statusCode).toBe(200);
    const events = await ledgerEvents(h.host, 'system');
    const actions = new Set(events.map((e) => e.action));
    for (const a of [
      'iam.sign-in.success',
      'iam.sign-in.failure',
      'iam.sign-in.lockout',
      'iam.sign-in.locked',
      'iam.user.create',
    ]) {
      expect(actions).toContain(a);
    }
    const failure = events.find((e) => e.action === 'iam.sign-in.failure' && e.actor.id === adminId);
    expect(failure?.correlationId).toMatch(/^[0-9a-f-]{36}$/);
    expect(JSON.stringify(events)).not.toContain('example.test');
  });
});
