// WebAuthn as a second factor with a software authenticator (P-256, "none" attestation): a
// publisher registers a key while enrollment is mandatory, then signs in with it; a wrong origin,
// a reused challenge and a bad signature are refused.
import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { isoCBOR } from '@simplewebauthn/server/helpers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ledgerEvents, PASSWORD, startHarness, type Browser, type Harness } from './harness.ts';

const ORIGIN = 'http://localhost:8080';
const b64u = (b: Uint8Array): string => Buffer.from(b).toString('base64url');
const sha256 = (b: Uint8Array | string): Buffer => createHash('sha256').update(b).digest();

class SoftAuthenticator {
  readonly credentialId = Buffer.from('soft-authenticator-credential-01');
  readonly #key: KeyObject;
  readonly #publicJwk: { x: string; y: string };
  counter = 0;

  constructor() {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    this.#key = privateKey;
    const jwk = publicKey.export({ format: 'jwk' });
    this.#publicJwk = { x: jwk.x ?? '', y: jwk.y ?? '' };
  }

  #clientData(type: string, challenge: string, origin: string): Buffer {
    return Buffer.from(JSON.stringify({ type, challenge, origin, crossOrigin: false }));
  }

  create(challenge: string, origin = ORIGIN): unknown {
    const cose = new Map<number, number | Uint8Array>([
      [1, 2],
      [3, -7],
      [-1, 1],
      [-2, Buffer.from(this.#publicJwk.x, 'base64url')],
      [-3, Buffer.from(this.#publicJwk.y, 'base64url')],
    ]);
    const idLen = Buffer.alloc(2);
    idLen.writeUInt16BE(this.credentialId.length);
    const authData = Buffer.concat([
      sha256('localhost'),
      Buffer.of(0x41),
      Buffer.alloc(4),
      Buffer.alloc(16),
      idLen,
      this.credentialId,
      Buffer.from(isoCBOR.encode(cose)),
    ]);
    const attestation = isoCBOR.encode(
      new Map<string, unknown>([
        ['fmt', 'none'],
        ['attStmt', new Map()],
        ['authData', authData],
      ]) as never,
    );
    return {
      id: b64u(this.credentialId),
      rawId: b64u(this.credentialId),
      type: 'public-key',
      response: {
        clientDataJSON: b64u(this.#clientData('webauthn.create', challenge, origin)),
        attestationObject: b64u(attestation),
        transports: ['usb'],
      },
      clientExtensionResults: {},
    };
  }

  get(challenge: string, origin = ORIGIN, tamper = false): unknown {
    this.counter++;
    const count = Buffer.alloc(4);
    count.writeUInt32BE(this.counter);
    const authData = Buffer.concat([sha256('localhost'), Buffer.of(0x01), count]);
    const clientData = this.#clientData('webauthn.get', challenge, origin);
    const signature = sign('sha256', Buffer.concat([authData, sha256(clientData)]), this.#key);
    if (tamper) signature.writeUInt8((signature.at(-1) ?? 0) ^ 1, signature.length - 1);
    return {
      id: b64u(this.credentialId),
      rawId: b64u(this.credentialId),
      type: 'public-key',
      response: {
        clientDataJSON: b64u(clientData),
        authenticatorData: b64u(authData),
        signature: b64u(signature),
      },
      clientExtensionResults: {},
    };
  }
}

describe('WebAuthn second factor', () => {
  let h: Harness;
  const key = new SoftAuthenticator();

  beforeAll(async () => {
    h = await startHarness();
    await h.createUser('publisher@example.test', PASSWORD, [['default', 'publisher']]);
  });
  afterAll(() => h.close());

  async function challengeOf(b: Browser, url: string): Promise<string> {
    const res = await b.call('POST', url);
    expect(res.statusCode).toBe(200);
    return res.json<{ challenge: string }>().challenge;
  }

  it('registers a security key during mandatory enrollment and signs in with it', async () => {
    const b = h.browser();
    expect((await b.signIn('publisher@example.test')).json()).toMatchObject({ stage: 'enroll' });
    const wrongOrigin = await b.call('POST', '/api/v1/auth/mfa/webauthn/register', {
      credential: key.create(
        await challengeOf(b, '/api/v1/auth/mfa/webauthn/register/options'),
        'https://evil.example.test',
      ),
    });
    expect(wrongOrigin.json()).toMatchObject({ code: 'IAM_WEBAUTHN_FAILED' });
    const challenge = await challengeOf(b, '/api/v1/auth/mfa/webauthn/register/options');
    const registered = await b.call('POST', '/api/v1/auth/mfa/webauthn/register', {
      credential: key.create(challenge),
      name: 'desk key',
    });
    expect(registered.statusCode).toBe(200);
    expect(registered.json()).toMatchObject({ stage: 'active', factors: { totp: false, webauthn: 1 } });
    expect((await b.call('GET', '/api/v1/auth/session')).json()).toMatchObject({ mfa: true });

    const next = h.browser();
    expect((await next.signIn('publisher@example.test')).json()).toMatchObject({ stage: 'mfa' });
    const c1 = await challengeOf(next, '/api/v1/auth/mfa/webauthn/authenticate/options');
    const bad = await next.call('POST', '/api/v1/auth/mfa/webauthn/authenticate', {
      credential: key.get(c1, ORIGIN, true),
    });
    expect(bad.json()).toMatchObject({ code: 'IAM_WEBAUTHN_FAILED' });
    // The challenge was used by the failed attempt.
    const reused = await next.call('POST', '/api/v1/auth/mfa/webauthn/authenticate', {
      credential: key.get(c1),
    });
    expect(reused.json()).toMatchObject({ code: 'IAM_CHALLENGE_INVALID' });
    const c2 = await challengeOf(next, '/api/v1/auth/mfa/webauthn/authenticate/options');
    const ok = await next.call('POST', '/api/v1/auth/mfa/webauthn/authenticate', { credential: key.get(c2) });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({ stage: 'active' });
    const stored = await h.host.store.db
      .selectFrom('webauthn_credentials')
      .select(['counter', 'name'])
      .executeTakeFirst();
    expect(stored).toMatchObject({ counter: key.counter, name: 'desk key' });
    const events = await ledgerEvents(h.host, 'system');
    expect(events.some((e) => e.action === 'iam.mfa.enroll' && e.details?.factor === 'webauthn')).toBe(true);
    expect(events.some((e) => e.action === 'iam.mfa.failure' && e.details?.factor === 'webauthn')).toBe(true);
  });
});
