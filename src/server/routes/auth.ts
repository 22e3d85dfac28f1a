// Sign-in and session routes: password sign-in, second factors (TOTP, WebAuthn) with a fresh
// session id at each step, OIDC single sign-on, sign-out and password change. Only sign-in and
// the SSO start and callback are public.
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { CustosError } from '../../errors/index.ts';
import type { Host } from '../../host/index.ts';
import {
  advanceSession,
  authenticationOptions,
  beginOidc,
  checkPasswordPolicy,
  completeSignIn,
  confirmTotp,
  csrfTokenFor,
  enrollTotp,
  factorsOf,
  finishOidc,
  getUser,
  hashPassword,
  recordIam,
  registrationOptions,
  resolveSession,
  revokeSession,
  signInWithPassword,
  verifyAuthentication,
  verifyPassword,
  verifyRegistration,
  verifyTotp,
  type IssuedSession,
  type Principal,
  type SessionStage,
} from '../../iam/index.ts';
import { apiRoute, publicRoute } from '../plugins/api-route.ts';
import { serverIamOf, type ServerIam } from '../plugins/authn.ts';
import { OIDC_COOKIE, parseCookies, serializeCookie, SESSION_COOKIE } from '../plugins/cookies.ts';
import { body, params, TEXT, TOTP_CODE } from '../plugins/schemas.ts';

const SESSION_VIEW = {
  type: 'object',
  properties: {
    stage: { enum: ['mfa', 'enroll', 'active'] },
    csrfToken: { type: 'string' },
    user: { type: 'object' },
    factors: { type: 'object' },
  },
};

function setSessionCookie(reply: FastifyReply, issued: IssuedSession): void {
  const seconds = (Date.parse(issued.session.expiresAt) - Date.parse(issued.session.lastSeenAt)) / 1000;
  reply.header('set-cookie', serializeCookie(SESSION_COOKIE, issued.cookie, seconds));
}

function sessionOf(principal: Principal, stages: readonly SessionStage[]) {
  const { session, user } = principal;
  if (principal.via !== 'session' || session === undefined || user === undefined) {
    throw new CustosError('IAM_SESSION_REQUIRED', 'This needs a browser session, not an API token', {
      details: { field: 'cookie', rule: 'session cookie' },
    });
  }
  if (!stages.includes(session.stage)) {
    const rule =
      session.stage === 'mfa' ? 'verify the second factor first' : `session at stage ${stages.join(' or ')}`;
    throw new CustosError('IAM_MFA_REQUIRED', `Not at this step of sign-in: ${rule}`, {
      details: { field: 'session', rule },
    });
  }
  return { session, user };
}

async function sessionView(iam: ServerIam, issued: IssuedSession) {
  const user = await getUser(iam.ctx, issued.session.userId);
  return {
    stage: issued.session.stage,
    csrfToken: issued.csrfToken,
    expiresAt: issued.session.expiresAt,
    user: { id: user.id, email: user.email, displayName: user.displayName },
    factors: await factorsOf(iam.ctx, user.id),
  };
}

async function advance(
  iam: ServerIam,
  reply: FastifyReply,
  principal: Principal,
  method: string,
  correlationId: string,
) {
  const { session } = sessionOf(principal, ['mfa', 'enroll', 'active']);
  const issued = await advanceSession(iam.ctx, session, 'active', method);
  setSessionCookie(reply, issued);
  await recordIam(iam.ctx, {
    action: 'iam.mfa.verify',
    actor: principal.actor,
    resource: { kind: 'session', id: issued.session.id },
    details: { factor: method, previous: session.id },
    correlationId,
  });
  return sessionView(iam, issued);
}

export function authRoutes(host: Host): FastifyPluginAsync {
  return (app) => {
    const iam = serverIamOf(host);
    publicRoute<Record<string, never>, Record<string, never>, { email: string; password: string }>(app, iam, {
      method: 'POST',
      url: '/api/v1/auth/login',
      summary:
        'Sign in with email and password; starts a session (second factor next when enrolled or required)',
      tags: ['auth'],
      body: body({ email: TEXT(254), password: TEXT(256) }, ['email', 'password']),
      responses: { 200: { description: 'Session started', schema: SESSION_VIEW } },
      handler: async ({ body: input, request, reply, correlationId }) => {
        // A cookie presented at sign-in is never reused: it is revoked and a new id is issued.
        const old = parseCookies(request.headers.cookie).get(SESSION_COOKIE);
        if (old !== undefined) {
          const prior = await resolveSession(iam.ctx, old).catch(() => undefined);
          if (prior !== undefined) await revokeSession(iam.ctx, prior.id);
        }
        const result = await signInWithPassword(iam.ctx, {
          email: input.email,
          password: input.password,
          correlationId,
        });
        setSessionCookie(reply, result.issued);
        return sessionView(iam, result.issued);
      },
    });
    apiRoute(app, iam, {
      method: 'GET',
      url: '/api/v1/auth/session',
      action: 'session.read',
      summary: 'Who is calling: the principal, its grants, and for sessions the stage and CSRF token',
      tags: ['auth'],
      responses: { 200: { description: 'The caller' } },
      handler: async ({ principal, request }) => {
        const cookie = parseCookies(request.headers.cookie).get(SESSION_COOKIE);
        return {
          via: principal.via,
          principal: { kind: principal.kind, id: principal.id },
          ...(principal.user === undefined
            ? {}
            : {
                user: {
                  id: principal.user.id,
                  email: principal.user.email,
                  displayName: principal.user.displayName,
                },
              }),
          ...(principal.session === undefined
            ? {}
            : {
                stage: principal.session.stage,
                expiresAt: principal.session.expiresAt,
                csrfToken: csrfTokenFor(cookie ?? ''),
              }),
          mfa: principal.mfa,
          grants: principal.grants.map((g) => ({
            workspace: g.workspace,
            role: g.role,
            connector: g.connector,
          })),
          ...(principal.user === undefined ? {} : { factors: await factorsOf(iam.ctx, principal.user.id) }),
        };
      },
    });
    apiRoute(app, iam, {
      method: 'POST',
      url: '/api/v1/auth/logout',
      action: 'session.end',
      summary: 'End the current session',
      tags: ['auth'],
      responses: { 204: { description: 'Signed out' } },
      handler: async ({ principal, reply, correlationId }) => {
        if (principal.session !== undefined) {
          await revokeSession(iam.ctx, principal.session.id);
          await recordIam(iam.ctx, {
            action: 'iam.session.end',
            actor: principal.actor,
            resource: { kind: 'session', id: principal.session.id },
            correlationId,
          });
        }
        reply.header('set-cookie', serializeCookie(SESSION_COOKIE, '', 0));
        return reply.code(204).send();
      },
    });
    apiRoute(app, iam, {
      method: 'POST',
      url: '/api/v1/auth/mfa/totp/enroll',
      action: 'mfa.totp.enroll',
      summary: 'Start TOTP enrollment: the secret and otpauth URI, shown once',
      tags: ['auth'],
      responses: { 200: { description: 'Secret to put in an authenticator app' } },
      handler: async ({ principal }) => {
        const { user } = sessionOf(principal, ['enroll', 'active']);
        const enrolled = await enrollTotp(iam.ctx, user);
        return { secret: enrolled.secret, otpauthUri: enrolled.uri };
      },
    });
    apiRoute<Record<string, never>, Record<string, never>, { code: string }>(app, iam, {
      method: 'POST',
      url: '/api/v1/auth/mfa/totp/confirm',
      action: 'mfa.totp.enroll',
      summary: 'Finish TOTP enrollment with a first code; the session gets a new id with the factor verified',
      tags: ['auth'],
      body: body({ code: TOTP_CODE }, ['code']),
      responses: { 200: { description: 'Enrolled; new session', schema: SESSION_VIEW } },
      handler: async ({ principal, body: input, reply, correlationId }) => {
        const { user } = sessionOf(principal, ['enroll', 'active']);
        await confirmTotp(iam.ctx, user.id, input.code, correlationId);
        return advance(iam, reply, principal, 'totp', correlationId);
      },
    });
    apiRoute<Record<string, never>, Record<string, never>, { code: string }>(app, iam, {
      method: 'POST',
      url: '/api/v1/auth/mfa/totp/verify',
      action: 'mfa.totp.verify',
      summary: 'Complete sign-in with a TOTP code; the session gets a new id',
      tags: ['auth'],
      body: body({ code: TOTP_CODE }, ['code']),
      responses: { 200: { description: 'Signed in', schema: SESSION_VIEW } },
      handler: async ({ principal, body: input, reply, correlationId }) => {
        const { user } = sessionOf(principal, ['mfa']);
        await verifyTotp(iam.ctx, user.id, input.code);
        return advance(iam, reply, principal, 'totp', correlationId);
      },
    });
    apiRoute(app, iam, {
      method: 'POST',
      url: '/api/v1/auth/mfa/webauthn/register/options',
      action: 'mfa.webauthn.register',
      summary: 'WebAuthn registration options (navigator.credentials.create)',
      tags: ['auth'],
      responses: { 200: { description: 'PublicKeyCredentialCreationOptionsJSON' } },
      handler: async ({ principal }) => {
        const { user } = sessionOf(principal, ['enroll', 'active']);
        return registrationOptions(iam.ctx, iam.rp, user);
      },
    });
    apiRoute<Record<string, never>, Record<string, never>, { credential: unknown; name?: string }>(app, iam, {
      method: 'POST',
      url: '/api/v1/auth/mfa/webauthn/register',
      action: 'mfa.webauthn.register',
      summary: 'Register a security key; the session gets a new id with the factor verified',
      tags: ['auth'],
      body: body({ credential: { type: 'object' }, name: TEXT(100) }, ['credential']),
      responses: { 200: { description: 'Registered; new session', schema: SESSION_VIEW } },
      handler: async ({ principal, body: input, reply, correlationId }) => {
        const { user } = sessionOf(principal, ['enroll', 'active']);
        await verifyRegistration(
          iam.ctx,
          iam.rp,
          user,
          input.credential,
          input.name ?? 'security key',
          correlationId,
        );
        return advance(iam, reply, principal, 'webauthn', correlationId);
      },
    });
    apiRoute(app, iam, {
      method: 'POST',
      url: '/api/v1/auth/mfa/webauthn/authenticate/options',
      action: 'mfa.webauthn.verify',
      summary: 'WebAuthn assertion options (navigator.credentials.get)',
      tags: ['auth'],
      responses: { 200: { description: 'PublicKeyCredentialRequestOptionsJSON' } },
      handler: async ({ principal }) => {
        const { user } = sessionOf(principal, ['mfa']);
        return authenticationOptions(iam.ctx, iam.rp, user.id);
      },
    });
    apiRoute<Record<string, never>, Record<string, never>, { credential: unknown }>(app, iam, {
      method: 'POST',
      url: '/api/v1/auth/mfa/webauthn/authenticate',
      action: 'mfa.webauthn.verify',
      summary: 'Complete sign-in with a security key; the session gets a new id',
      tags: ['auth'],
      body: body({ credential: { type: 'object' } }, ['credential']),
      responses: { 200: { description: 'Signed in', schema: SESSION_VIEW } },
      handler: async ({ principal, body: input, reply, correlationId }) => {
        const { user } = sessionOf(principal, ['mfa']);
        await verifyAuthentication(iam.ctx, iam.rp, user.id, input.credential);
        return advance(iam, reply, principal, 'webauthn', correlationId);
      },
    });
    apiRoute<Record<string, never>, Record<string, never>, { currentPassword: string; newPassword: string }>(
      app,
      iam,
      {
        method: 'POST',
        url: '/api/v1/auth/password',
        action: 'password.change',
        summary: 'Change the own password; every other session ends',
        tags: ['auth'],
        body: body({ currentPassword: TEXT(256), newPassword: TEXT(256) }, [
          'currentPassword',
          'newPassword',
        ]),
        responses: { 204: { description: 'Changed' } },
        handler: async ({ principal, body: input, reply, correlationId }) => {
          const { user, session } = sessionOf(principal, ['active']);
          const row = await iam.ctx.store.db
            .selectFrom('users')
            .select('password_hash')
            .where('id', '=', user.id)
            .executeTakeFirst();
          if (
            row?.password_hash == null ||
            !(await verifyPassword(input.currentPassword, row.password_hash))
          ) {
            throw new CustosError('IAM_CREDENTIALS_INVALID', 'Current password is wrong', {
              details: { field: 'currentPassword', rule: 'the current password' },
            });
          }
          const hash = await hashPassword(
            checkPasswordPolicy(input.newPassword, user.email, 'newPassword'),
            iam.ctx.settings.password,
          );
          await iam.ctx.store.db.transaction().execute(async (trx) => {
            await trx.updateTable('users').set({ password_hash: hash }).where('id', '=', user.id).execute();
            await trx
              .updateTable('sessions')
              .set({ revoked_at: iam.ctx.clock().toISOString() })
              .where('user_id', '=', user.id)
              .where('id', '!=', session.id)
              .where('revoked_at', 'is', null)
              .execute();
          });
          await recordIam(iam.ctx, {
            action: 'iam.password.change',
            actor: principal.actor,
            resource: { kind: 'user', id: user.id },
            correlationId,
          });
          return reply.code(204).send();
        },
      },
    );
    const providerParams = params({ provider: { type: 'string', pattern: '^[a-z][a-z0-9-]{0,62}$' } }, false);
    publicRoute<{ provider: string }>(app, iam, {
      method: 'GET',
      url: '/api/v1/auth/oidc/:provider/login',
      summary: 'Start single sign-on: redirects to the provider (authorization code with PKCE)',
      tags: ['auth'],
      params: providerParams,
      responses: { 302: { description: 'Redirect to the provider' } },
      handler: async ({ params: p, reply }) => {
        const redirectUri = `${iam.publicUrl}/api/v1/auth/oidc/${p.provider}/callback`;
        const { url, binding } = await beginOidc(iam.ctx, p.provider, redirectUri);
        reply.header('set-cookie', serializeCookie(OIDC_COOKIE, binding, 600));
        return reply.redirect(url, 302);
      },
    });
    publicRoute<{ provider: string }, Record<string, string>>(app, iam, {
      method: 'GET',
      url: '/api/v1/auth/oidc/:provider/callback',
      summary:
        'Single sign-on callback: checks state, PKCE and nonce, starts a session, redirects to the console',
      tags: ['auth'],
      params: providerParams,
      query: {
        type: 'object',
        additionalProperties: { type: 'string', maxLength: 4096 },
        properties: { code: { type: 'string', maxLength: 4096 }, state: { type: 'string', maxLength: 256 } },
      },
      responses: { 302: { description: 'Redirect to the console with a session cookie' } },
      handler: async ({ params: p, request, reply, correlationId }) => {
        const binding = parseCookies(request.headers.cookie).get(OIDC_COOKIE);
        const callback = new URL(request.url, iam.publicUrl);
        const user = await finishOidc(iam.ctx, p.provider, callback, binding, correlationId);
        const result = await completeSignIn(iam.ctx, user, 'oidc', correlationId);
        const seconds =
          (Date.parse(result.issued.session.expiresAt) - Date.parse(result.issued.session.lastSeenAt)) / 1000;
        reply.header('set-cookie', [
          serializeCookie(SESSION_COOKIE, result.issued.cookie, seconds),
          serializeCookie(OIDC_COOKIE, '', 0),
        ]);
        return reply.redirect(`${iam.publicUrl}/?signin=${result.stage}`, 302);
      },
    });
    return Promise.resolve();
  };
}
