// WebAuthn as a second factor (SimpleWebAuthn): registration and authentication ceremonies with
// one-use challenges, public keys and signature counters stored per credential.
import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from '@simplewebauthn/server';
import type * as WebAuthnLibrary from '@simplewebauthn/server';
import { CustosError } from '../errors/index.ts';
import { asBuffer } from '../store/index.ts';
import { recordIam, userActor } from './audit.ts';
import { takeChallenge, putChallenge } from './challenges.ts';
import { nowOf, type IamContext } from './context.ts';
import type { User } from './users.ts';
import { withCorrelation } from '../ledger/index.ts';

/** The relying party: the console's origin and its host name. */
export interface RelyingParty {
  readonly id: string;
  readonly name: string;
  readonly origin: string;
}

const TTL_SECONDS = 300;

/**
 * The WebAuthn library, loaded on the first ceremony: it pulls in a whole ASN.1 and X.509 stack
 * (about a quarter of a second) that commands and servers without WebAuthn never need.
 */
function library(): Promise<typeof WebAuthnLibrary> {
  return import('@simplewebauthn/server');
}

function failed(rule: string, cause?: unknown): CustosError {
  return new CustosError('IAM_WEBAUTHN_FAILED', 'Security key verification failed', {
    ...(cause === undefined ? {} : { cause }),
    details: { field: 'credential', rule },
  });
}

async function credentialsOf(ctx: IamContext, userId: string) {
  return ctx.store.db.selectFrom('webauthn_credentials').selectAll().where('user_id', '=', userId).execute();
}

function transportsOf(text: string): string[] {
  const parsed = JSON.parse(text) as unknown;
  return Array.isArray(parsed) ? parsed.filter((t): t is string => typeof t === 'string') : [];
}

export async function registrationOptions(
  ctx: IamContext,
  rp: RelyingParty,
  user: User,
): Promise<PublicKeyCredentialCreationOptionsJSON> {
  const existing = await credentialsOf(ctx, user.id);
  const options = await (
    await library()
  ).generateRegistrationOptions({
    rpName: rp.name,
    rpID: rp.id,
    userName: user.email,
    userID: Buffer.from(user.id, 'utf8'),
    userDisplayName: user.displayName,
    attestationType: 'none',
    excludeCredentials: existing.map((c) => ({ id: c.id, transports: transportsOf(c.transports) })),
    authenticatorSelection: { residentKey: 'discouraged', userVerification: 'preferred' },
  });
  await putChallenge(ctx, {
    kind: 'webauthn-register',
    subject: user.id,
    data: { challenge: options.challenge },
    ttlSeconds: TTL_SECONDS,
  });
  return options;
}

/** Verify a registration and store the credential. Throws IAM_CHALLENGE_INVALID, IAM_WEBAUTHN_FAILED. */
export async function verifyRegistration(
  ctx: IamContext,
  rp: RelyingParty,
  user: User,
  response: unknown,
  name: string,
  correlationId?: string,
): Promise<{ id: string; name: string }> {
  const { data } = await takeChallenge(ctx, 'webauthn-register', { subject: user.id });
  let verified;
  try {
    verified = await (
      await library()
    ).verifyRegistrationResponse({
      response: response as RegistrationResponseJSON,
      expectedChallenge: data.challenge ?? '',
      expectedOrigin: rp.origin,
      expectedRPID: rp.id,
      requireUserVerification: false,
    });
  } catch (cause) {
    throw failed('valid attestation for this challenge and origin', cause);
  }
  if (!verified.verified) throw failed('valid attestation for this challenge and origin');
  const { credential } = verified.registrationInfo;
  await ctx.store.db
    .insertInto('webauthn_credentials')
    .values({
      id: credential.id,
      user_id: user.id,
      public_key: Buffer.from(credential.publicKey),
      counter: credential.counter,
      transports: JSON.stringify(credential.transports ?? []),
      name,
      created_at: nowOf(ctx),
      last_used_at: null,
    })
    .execute()
    .catch((cause: unknown) => {
      throw failed('credential not registered before', cause);
    });
  await recordIam(ctx, {
    action: 'iam.mfa.enroll',
    actor: userActor(user.id),
    resource: { kind: 'user', id: user.id },
    details: { factor: 'webauthn', credential: credential.id },
    ...withCorrelation(correlationId),
  });
  return { id: credential.id, name };
}

export async function authenticationOptions(
  ctx: IamContext,
  rp: RelyingParty,
  userId: string,
): Promise<PublicKeyCredentialRequestOptionsJSON> {
  const creds = await credentialsOf(ctx, userId);
  if (creds.length === 0) {
    throw new CustosError('IAM_MFA_NOT_ENROLLED', 'No security key is registered', {
      details: { field: 'webauthn', rule: 'registered credential' },
    });
  }
  const options = await (
    await library()
  ).generateAuthenticationOptions({
    rpID: rp.id,
    allowCredentials: creds.map((c) => ({ id: c.id, transports: transportsOf(c.transports) })),
    userVerification: 'preferred',
  });
  await putChallenge(ctx, {
    kind: 'webauthn-auth',
    subject: userId,
    data: { challenge: options.challenge },
    ttlSeconds: TTL_SECONDS,
  });
  return options;
}

/** Verify an assertion of a registered credential. Throws IAM_CHALLENGE_INVALID, IAM_WEBAUTHN_FAILED. */
export async function verifyAuthentication(
  ctx: IamContext,
  rp: RelyingParty,
  userId: string,
  response: unknown,
): Promise<void> {
  const { data } = await takeChallenge(ctx, 'webauthn-auth', { subject: userId });
  const id =
    typeof response === 'object' && response !== null ? (response as { id?: unknown }).id : undefined;
  const row =
    typeof id === 'string'
      ? await ctx.store.db
          .selectFrom('webauthn_credentials')
          .selectAll()
          .where('id', '=', id)
          .where('user_id', '=', userId)
          .executeTakeFirst()
      : undefined;
  const fail = async (rule: string, cause?: unknown): Promise<never> => {
    await recordIam(ctx, {
      action: 'iam.mfa.failure',
      actor: userActor(userId),
      resource: { kind: 'user', id: userId },
      outcome: 'failure',
      details: { factor: 'webauthn' },
    });
    throw failed(rule, cause);
  };
  if (row === undefined) return fail('credential registered to this user');
  let result;
  try {
    result = await (
      await library()
    ).verifyAuthenticationResponse({
      response: response as AuthenticationResponseJSON,
      expectedChallenge: data.challenge ?? '',
      expectedOrigin: rp.origin,
      expectedRPID: rp.id,
      credential: {
        id: row.id,
        publicKey: new Uint8Array(asBuffer(row.public_key)),
        counter: row.counter,
        transports: transportsOf(row.transports),
      },
      requireUserVerification: false,
    });
  } catch (cause) {
    return fail('valid assertion for this challenge and origin', cause);
  }
  if (!result.verified) return fail('valid assertion for this challenge and origin');
  await ctx.store.db
    .updateTable('webauthn_credentials')
    .set({ counter: result.authenticationInfo.newCounter, last_used_at: nowOf(ctx) })
    .where('id', '=', row.id)
    .execute();
}
