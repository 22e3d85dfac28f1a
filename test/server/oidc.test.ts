// OIDC single sign-on end to end against a real OpenID provider (oidc-provider) started here: the
// authorization code flow with PKCE, state bound to the browser, nonce, linking by verified
// email, and refusal of replayed, unbound, tampered and unlinked callbacks.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ledgerEvents, leaks, PASSWORD, startHarness, type Harness } from './harness.ts';

const CLIENT_SECRET = 'sso-client-secret-that-must-stay-sealed';
const REDIRECT = 'http://localhost:8080/api/v1/auth/oidc/idp/callback';

const ACCOUNTS: Record<string, { email: string; verified: boolean; groups?: string[] }> = {
  'alice-sub': { email: 'alice@example.test', verified: true },
  'mallory-sub': { email: 'mallory@example.test', verified: true },
  'unverified-sub': { email: 'alice@example.test', verified: false },
};

describe('OIDC single sign-on against oidc-provider', () => {
  let h: Harness;
  let server: Server;
  let issuer: string;
  let nextAccount = 'alice-sub';
  let aliceId: string;

  beforeAll(async () => {
    h = await startHarness();
    server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const provider = new Provider(issuer, {
      clients: [
        {
          client_id: 'custos',
          client_secret: CLIENT_SECRET,
          redirect_uris: [REDIRECT],
          grant_types: ['authorization_code'],
          response_types: ['code'],
          token_endpoint_auth_method: 'client_secret_basic',
        },
      ],
      pkce: { required: () => true },
      claims: { openid: ['sub'], email: ['email', 'email_verified'], groups: ['groups'] },
      findAccount: (_ctx: unknown, sub: string) => ({
        accountId: sub,
        claims: () => ({
          sub,
          email: ACCOUNTS[sub]?.email,
          email_verified: ACCOUNTS[sub]?.verified,
          groups: ACCOUNTS[sub]?.groups,
        }),
      }),
      interactions: {
        url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}`,
      },
      features: { devInteractions: { enabled: false } },
      cookies: { keys: ['test-cookie-key-0123456789'] },
    });
    const callback = provider.callback();
    server.on('request', (req, res) => {
      if (req.url?.startsWith('/interaction/') === true) {
        void (async () => {
          const details = await provider.interactionDetails(req, res);
          if (details.prompt.name === 'login') {
            await provider.interactionFinished(
              req,
              res,
              { login: { accountId: nextAccount } },
              { mergeWithLastSubmission: false },
            );
            return;
          }
          const grant = new provider.Grant({
            accountId: details.session?.accountId ?? '',
            clientId: 'custos',
          });
          grant.addOIDCScope('openid email profile groups');
          await provider.interactionFinished(
            req,
            res,
            { consent: { grantId: await grant.save() } },
            { mergeWithLastSubmission: true },
          );
        })().catch(() => {
          res.statusCode = 500;
          res.end();
        });
        return;
      }
      callback(req, res);
    });
    aliceId = await h.createUser('alice@example.test', PASSWORD, [['default', 'builder']]);
    await h.createUser('bob@example.test', PASSWORD, [['default', 'builder']]);
    const set = await h.asAdmin('PUT', '/api/v1/oidc-providers/idp', {
      issuer,
      clientId: 'custos',
      clientSecret: CLIENT_SECRET,
    });
    expect(set.statusCode).toBe(200);
    expect(set.json()).toMatchObject({ id: 'idp', hasClientSecret: true });
  });

  afterAll(async () => {
    expect(leaks(h.responses, [CLIENT_SECRET, PASSWORD, h.admin])).toEqual([]);
    await h.close();
    await new Promise((resolve) => server.close(resolve));
  });

  /** Walk the browser through the provider: our login route, the provider, back to our callback. */
  async function signInAtProvider(account: string): Promise<{ callback: string; binding: string }> {
    nextAccount = account;
    const start = await h.inject({ method: 'GET', url: '/api/v1/auth/oidc/idp/login' });
    expect(start.statusCode).toBe(302);
    const binding = /__Host-custos_oidc=([^;]+)/.exec(String(start.headers['set-cookie']))?.[1] ?? '';
    let location = String(start.headers.location);
    const authorize = new URL(location);
    expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorize.searchParams.get('state')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(authorize.searchParams.get('nonce')).not.toBeNull();
    const jar = new Map<string, string>();
    for (let hops = 0; hops < 12 && !location.startsWith(REDIRECT); hops++) {
      const res = await fetch(new URL(location, issuer), {
        redirect: 'manual',
        headers: { cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; ') },
      });
      for (const c of res.headers.getSetCookie()) {
        const [pair = ''] = c.split(';');
        const eq = pair.indexOf('=');
        jar.set(pair.slice(0, eq), pair.slice(eq + 1));
      }
      const next = res.headers.get('location');
      if (next === null) throw new Error(`provider stopped at ${res.status}: ${await res.text()}`);
      location = new URL(next, issuer).href;
    }
    expect(location.startsWith(REDIRECT)).toBe(true);
    return { callback: location.slice('http://localhost:8080'.length), binding };
  }

  const finish = (url: string, binding: string | undefined) =>
    h.inject({
      method: 'GET',
      url,
      headers: binding === undefined ? {} : { cookie: `__Host-custos_oidc=${binding}` },
    });

  it('signs in with the authorization code flow and PKCE, linking the verified email', async () => {
    const { callback, binding } = await signInAtProvider('alice-sub');
    const done = await finish(callback, binding);
    expect(done.statusCode).toBe(302);
    expect(done.headers.location).toBe('http://localhost:8080/?signin=active');
    const cookie = /__Host-custos_session=([^;]+)/.exec(String(done.headers['set-cookie']))?.[1];
    expect(cookie).toBeDefined();
    const me = await h.inject({
      method: 'GET',
      url: '/api/v1/auth/session',
      headers: { cookie: `__Host-custos_session=${cookie ?? ''}` },
    });
    expect(me.json()).toMatchObject({ via: 'session', user: { id: aliceId }, stage: 'active' });
    const linked = await h.host.store.db.selectFrom('user_identities').selectAll().execute();
    expect(linked).toMatchObject([{ issuer, subject: 'alice-sub', user_id: aliceId }]);
    // The second time the (issuer, subject) link is used directly.
    const again = await signInAtProvider('alice-sub');
    expect((await finish(again.callback, again.binding)).statusCode).toBe(302);
    const events = await ledgerEvents(h.host, 'system');
    expect(events.filter((e) => e.action === 'iam.identity.link')).toHaveLength(1);
    expect(events.some((e) => e.action === 'iam.sign-in.success' && e.details?.method === 'oidc')).toBe(true);
  });

  it('refuses a callback from another browser, a replayed one and a tampered code', async () => {
    const { callback, binding } = await signInAtProvider('alice-sub');
    const unbound = await finish(callback, undefined);
    expect(unbound.statusCode).toBe(401);
    expect(unbound.json()).toMatchObject({ code: 'IAM_OIDC_FAILED' });
    // The state was consumed by the failed attempt: even the right browser cannot use it now.
    expect((await finish(callback, binding)).json()).toMatchObject({ code: 'IAM_OIDC_FAILED' });

    const second = await signInAtProvider('alice-sub');
    expect((await finish(second.callback, second.binding)).statusCode).toBe(302);
    expect((await finish(second.callback, second.binding)).json()).toMatchObject({ code: 'IAM_OIDC_FAILED' });

    const third = await signInAtProvider('alice-sub');
    const tampered = third.callback.replace(/code=([^&]+)/, (_m, c: string) => `code=${c.slice(0, -4)}AAAA`);
    const res = await finish(tampered, third.binding);
    expect(res.statusCode).toBe(401);
    expect(res.json()).toMatchObject({ code: 'IAM_OIDC_FAILED' });
  });

  it('refuses identities that are not linked to a Custos user or whose email is unverified', async () => {
    for (const account of ['mallory-sub', 'unverified-sub']) {
      const { callback, binding } = await signInAtProvider(account);
      const res = await finish(callback, binding);
      expect(res.statusCode).toBe(401);
      expect(res.json()).toMatchObject({ code: 'IAM_OIDC_FAILED' });
      expect(String(res.headers['set-cookie'])).not.toContain('__Host-custos_session=ses_');
    }
  });

  it("grants and revokes roles as the provider's groups say, never touching grants made by hand", async () => {
    const grantsOf = async (): Promise<string[]> =>
      (await h.asAdmin('GET', '/api/v1/workspaces/default/grants'))
        .json<{ userId: string; role: string; connector: string; managedBy: string | null }[]>()
        .filter((g) => g.userId === aliceId)
        .map((g) => `${g.role}/${g.connector}/${g.managedBy ?? 'hand'}`)
        .sort();
    const signIn = async (): Promise<void> => {
      const { callback, binding } = await signInAtProvider('alice-sub');
      expect((await finish(callback, binding)).statusCode).toBe(302);
    };
    const provider = {
      issuer,
      clientId: 'custos',
      clientSecret: CLIENT_SECRET,
      scopes: 'openid email profile groups',
    };
    // Bad mappings are refused, naming the entry and its field, and change nothing.
    for (const [groupRoles, field] of [
      [[{ group: 'x', workspace: 'nowhere', role: 'reviewer' }], 'groupRoles/0/workspace'],
      [
        [
          { group: 'x', workspace: 'default', role: 'reviewer' },
          { group: 'y', workspace: 'default', role: 'root' },
        ],
        'groupRoles/1/role',
      ],
      [[{ group: '', workspace: 'default', role: 'reviewer' }], 'groupRoles/0/group'],
    ] as const) {
      const bad = await h.asAdmin('PUT', '/api/v1/oidc-providers/idp', { ...provider, groupRoles });
      expect(bad.statusCode).toBe(400);
      expect(bad.json<{ field: string }>().field).toContain(field);
    }
    expect((await h.asAdmin('GET', '/api/v1/oidc-providers')).json()).toMatchObject([{ groupRoles: [] }]);

    const set = await h.asAdmin('PUT', '/api/v1/oidc-providers/idp', {
      ...provider,
      groupRoles: [
        { group: 'custos-reviewers', workspace: 'default', role: 'reviewer' },
        { group: 'custos-builders', workspace: 'default', role: 'builder' },
        { group: 'crm-operators', workspace: 'default', role: 'operator', connector: 'crm' },
      ],
    });
    expect(set.statusCode).toBe(200);
    expect(set.json()).toMatchObject({ groupsClaim: 'groups' });
    expect(await grantsOf()).toEqual(['builder/*/hand']);

    const alice = ACCOUNTS['alice-sub'] ?? { email: '', verified: false };
    alice.groups = ['custos-reviewers', 'crm-operators', 'custos-builders', 'unrelated'];
    await signIn();
    // builder/* is already hers by hand: the provider adds nothing for it.
    expect(await grantsOf()).toEqual(['builder/*/hand', 'operator/crm/oidc:idp', 'reviewer/*/oidc:idp']);
    await signIn();
    expect(await grantsOf()).toEqual(['builder/*/hand', 'operator/crm/oidc:idp', 'reviewer/*/oidc:idp']);

    // Leaving groups at the provider takes the roles away at the next sign-in.
    alice.groups = ['crm-operators'];
    await signIn();
    expect(await grantsOf()).toEqual(['builder/*/hand', 'operator/crm/oidc:idp']);
    delete alice.groups;
    await signIn();
    expect(await grantsOf()).toEqual(['builder/*/hand']);

    const events = (await ledgerEvents(h.host, 'default')).filter((e) => e.actor.id === 'oidc:idp');
    expect(events.map((e) => `${e.action} ${String(e.details?.role)}`)).toEqual([
      'iam.grant.create operator',
      'iam.grant.create reviewer',
      'iam.grant.revoke reviewer',
      'iam.grant.revoke operator',
    ]);
    expect(
      events.filter((e) => e.action === 'iam.grant.revoke').every((e) => e.details?.reason === 'sso'),
    ).toBe(true);
  });

  it('keeps the client secret sealed and refuses issuers that are not https (except loopback)', async () => {
    const row = await h.host.store.db.selectFrom('oidc_providers').selectAll().executeTakeFirst();
    expect(Buffer.from(row?.sealed_secret ?? []).toString('latin1')).not.toContain(CLIENT_SECRET);
    const listed = await h.asAdmin('GET', '/api/v1/oidc-providers');
    expect(listed.body).not.toContain(CLIENT_SECRET);
    const bad = await h.asAdmin('PUT', '/api/v1/oidc-providers/evil', {
      issuer: 'http://idp.example.test',
      clientId: 'x',
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ code: 'IAM_OIDC_PROVIDER_INVALID', field: 'issuer' });
    expect((await h.inject({ method: 'GET', url: '/api/v1/auth/oidc/nope/login' })).json()).toMatchObject({
      code: 'IAM_OIDC_PROVIDER_NOT_FOUND',
    });
  });
});
