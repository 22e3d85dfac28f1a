import { execFileSync } from 'node:child_process';
import { createPublicKey, verify } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { ed25519FromSeed, ed25519PublicPem, generateEd25519 } from '../../src/crypto/index.ts';
import { isCustosError } from '../../src/errors/index.ts';
import { keyIdOf, pae, parseEnvelope, signEnvelope, verifyEnvelope } from '../../src/custody/dsse/index.ts';
import { encodeStatement, parseStatement } from '../../src/custody/intoto/statement.ts';
import vectors from '../vectors/dsse/vectors.json' with { type: 'json' };
import example from '../vectors/dsse/protocol-example.json' with { type: 'json' };

const dir = mkdtempSync(join(tmpdir(), 'custos-dsse-'));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const keys = Object.fromEntries(
  Object.entries(vectors.keys).map(([name, k]) => [name, ed25519FromSeed(Buffer.from(k.seed, 'hex'))]),
);

describe(`DSSE vectors (${vectors.source})`, () => {
  it('keys derive the published public keys (RFC 8032 §7.1)', () => {
    for (const [name, k] of Object.entries(vectors.keys)) {
      const der = keys[name]!.publicKey.export({ format: 'der', type: 'spki' });
      expect(der.subarray(-32).toString('hex')).toBe(k.public);
    }
  });

  for (const v of vectors.vectors) {
    it(`${v.id}: ${v.expect} — ${v.description}`, () => {
      const bytes = Buffer.from(JSON.stringify(v.envelope));
      const parsed = parseEnvelope(bytes);
      // `pae` is what the signatures cover; for the swapped-type vector that is not the envelope's PAE.
      const first: { sig: string; keyid?: string } = v.envelope.signatures[0]!;
      expect(
        verify(
          null,
          Buffer.from(v.pae, 'hex'),
          keys[first.keyid ?? 'A']!.publicKey,
          Buffer.from(first.sig, 'base64url'),
        ),
      ).toBe(true);
      if (v.expect === 'accept') expect(pae(parsed.payloadType, parsed.body).toString('hex')).toBe(v.pae);
      const run = (): string[] =>
        verifyEnvelope(parsed, {
          keys: v.trustedKeys.map((name) => ({ keyId: name, publicKey: keys[name]!.publicKey })),
          threshold: v.threshold,
          payloadTypes: v.supportedPayloadTypes,
        });
      if (v.expect === 'accept') expect(run().length).toBeGreaterThanOrEqual(v.threshold);
      else expect(run).toThrow();
    });
  }

  it('signing reproduces the published signatures (Ed25519 is deterministic)', () => {
    const v = vectors.vectors[0]!;
    const env = signEnvelope(v.envelope.payloadType, Buffer.from(v.envelope.payload, 'base64'), {
      keyId: 'A',
      privateKey: keys.A!.privateKey,
    });
    expect(env.signatures[0]?.sig).toBe(v.envelope.signatures[0]?.sig);
  });
});

describe(`DSSE protocol example (${example.source})`, () => {
  it('PAE matches and the published ECDSA signature verifies over it', () => {
    const bytes = pae(example.payloadType, Buffer.from(example.body));
    expect(bytes.toString('latin1')).toBe(example.pae);
    const b64 = (dec: string): string =>
      Buffer.from(BigInt(dec).toString(16).padStart(64, '0'), 'hex').toString('base64url');
    const key = createPublicKey({
      key: { kty: 'EC', crv: 'P-256', x: b64(example.key.x), y: b64(example.key.y) },
      format: 'jwk',
    });
    const sig = Buffer.from(example.envelope.signatures[0]!.sig, 'base64');
    expect(verify('sha256', bytes, { key, dsaEncoding: 'ieee-p1363' }, sig)).toBe(true);
    expect(parseEnvelope(Buffer.from(JSON.stringify(example.envelope))).body.toString()).toBe(example.body);
  });
});

describe('DSSE parsing is defensive', () => {
  const bad: [string, unknown][] = [
    ['not an object', []],
    ['payloadType missing', { payload: '', signatures: [{ sig: '' }] }],
    ['signatures empty', { payloadType: 't', payload: '', signatures: [] }],
    ['signature not an object', { payloadType: 't', payload: '', signatures: ['x'] }],
    ['sig not base64', { payloadType: 't', payload: '', signatures: [{ sig: '!!!' }] }],
    ['keyid not a string', { payloadType: 't', payload: '', signatures: [{ sig: '', keyid: 1 }] }],
    ['payload not canonical base64', { payloadType: 't', payload: 'QQ=A', signatures: [{ sig: '' }] }],
  ];
  for (const [title, value] of bad) {
    it(`refuses ${title}`, () => {
      try {
        parseEnvelope(Buffer.from(JSON.stringify(value)));
        expect.unreachable();
      } catch (err) {
        expect(isCustosError(err, 'CUSTODY_DSSE_INVALID')).toBe(true);
      }
    });
  }

  it('never throws anything but a CustosError on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        try {
          parseEnvelope(bytes);
        } catch (err) {
          expect(isCustosError(err)).toBe(true);
        }
      }),
    );
  });
});

describe('in-toto statement', () => {
  it('round-trips as RFC 8785 bytes and refuses malformed subjects', () => {
    const s = {
      subject: [{ name: 'data/records.ndjson', digest: { sha256: 'ab' } }],
      predicateType: 'https://x/v1',
      predicate: { a: 1 },
    };
    const bytes = encodeStatement(s);
    expect(bytes.toString()).toBe(
      '{"_type":"https://in-toto.io/Statement/v1","predicate":{"a":1},"predicateType":"https://x/v1","subject":[{"digest":{"sha256":"ab"},"name":"data/records.ndjson"}]}',
    );
    expect(parseStatement(bytes)).toEqual(s);
    const parsed = JSON.parse(bytes.toString()) as Record<string, unknown>;
    const dup = { ...parsed, subject: [s.subject[0], s.subject[0]] };
    expect(() => parseStatement(Buffer.from(JSON.stringify(dup)))).toThrow(/listed twice/);
    const upper = { ...parsed, subject: [{ name: 'x', digest: { sha256: 'AB' } }] };
    expect(() => parseStatement(Buffer.from(JSON.stringify(upper)))).toThrow(/lowercase hex/);
  });
});

describe('openssl interop', () => {
  it('openssl pkeyutl -verify checks our signature over the PAE bytes with the PEM key', () => {
    const { privateKey, publicKey } = generateEd25519();
    const body = encodeStatement({
      subject: [{ name: 'data/records.ndjson', digest: { sha256: 'ab' } }],
      predicateType: 'https://x/v1',
      predicate: {},
    });
    const env = signEnvelope('application/vnd.in-toto+json', body, { keyId: keyIdOf(publicKey), privateKey });
    const pem = join(dir, 'key.pem');
    const paeFile = join(dir, 'pae.bin');
    const sigFile = join(dir, 'sig.bin');
    writeFileSync(pem, ed25519PublicPem(publicKey));
    writeFileSync(paeFile, pae(env.payloadType, Buffer.from(env.payload, 'base64')));
    writeFileSync(sigFile, Buffer.from(env.signatures[0]!.sig, 'base64'));
    const out = execFileSync(
      'openssl',
      ['pkeyutl', '-verify', '-pubin', '-inkey', pem, '-rawin', '-in', paeFile, '-sigfile', sigFile],
      { encoding: 'utf8' },
    );
    expect(out).toMatch(/Signature Verified Successfully/);
    const der = execFileSync('openssl', ['pkey', '-pubin', '-in', pem, '-outform', 'DER']);
    expect(execFileSync('sha256sum', { input: der, encoding: 'utf8' }).split(' ')[0]).toBe(
      keyIdOf(publicKey),
    );
    writeFileSync(
      paeFile,
      Buffer.concat([pae(env.payloadType, Buffer.from(env.payload, 'base64')), Buffer.of(0)]),
    );
    expect(() =>
      execFileSync(
        'openssl',
        ['pkeyutl', '-verify', '-pubin', '-inkey', pem, '-rawin', '-in', paeFile, '-sigfile', sigFile],
        { stdio: 'pipe' },
      ),
    ).toThrow();
  });
});
